package ixnserver

import "github.com/parley-chat/parley/internal/ixn"

// The bodies of the interaction server's requests; field names are
// camelCase as in docs/ixn.md. Unknown fields are refused.

type registerRequest struct {
	ClientName string `json:"clientName"`
	ClientType string `json:"clientType"` // media-server, agent, routing or reporting
}

type submitRequest struct {
	InteractionID string            `json:"interactionId"`
	Tenant        string            `json:"tenant"`
	MediaType     string            `json:"mediaType"`
	Queue         string            `json:"queue"`
	Properties    map[string]string `json:"properties"`
	// SubmittedBy is the client whose connections receive the
	// interaction's events; empty means the submitting client.
	SubmittedBy string `json:"submittedBy"`
}

type changePropertiesRequest struct {
	InteractionID     string            `json:"interactionId"`
	ChangedProperties map[string]string `json:"changedProperties"`
	AddedProperties   map[string]string `json:"addedProperties"`
	DeletedProperties []string          `json:"deletedProperties"`
}

// interactionRequest serves every request that names only an interaction:
// RequestAccept, RequestReject, RequestLeaveInteraction,
// RequestGetInteractionProperties.
type interactionRequest struct {
	InteractionID string `json:"interactionId"`
}

type stopRequest struct {
	InteractionID string `json:"interactionId"`
	Reason        string `json:"reason"`
}

type placeInQueueRequest struct {
	InteractionID string `json:"interactionId"`
	Queue         string `json:"queue"`
}

// pullRequest is a routing client's pull from a view or a queue, or an
// agent's pull of interactionId out of its workbin.
type pullRequest struct {
	View          string `json:"view"`
	Queue         string `json:"queue"`
	Count         int    `json:"count"`
	InteractionID string `json:"interactionId"`
}

type deliverRequest struct {
	InteractionID string `json:"interactionId"`
	AgentID       string `json:"agentId"`
}

type loginRequest struct {
	AgentID  string `json:"agentId"`
	Password string `json:"password"`
	Place    string `json:"place"`
	// Media maps a media type to the capacity asked for; absent means the
	// configured capacity, which also caps it.
	Media map[string]int `json:"media"`
}

type notReadyRequest struct {
	Reason string `json:"reason"`
}

type workbinRequest struct {
	InteractionID string `json:"interactionId"`
	Workbin       string `json:"workbin"`
}

type workbinContentRequest struct {
	Workbin string `json:"workbin"`
}

type transferRequest struct {
	InteractionID string `json:"interactionId"`
	Queue         string `json:"queue"`
	AgentID       string `json:"agentId"`
}

type conferenceRequest struct {
	InteractionID string `json:"interactionId"`
	AgentID       string `json:"agentId"`
}

// subscribeRequest (and RequestUnsubscribe) follows one interaction's
// events, or with topic "reporting" the reporting stream, replayed from
// fromId when it is set.
type subscribeRequest struct {
	InteractionID string `json:"interactionId"`
	Topic         string `json:"topic"`
	FromID        int64  `json:"fromId"`
}

type empty struct{}

// interactionsReply is the body of EventPulledInteractions and
// EventWorkbinContent.
type interactionsReply struct {
	Workbin      string            `json:"workbin,omitempty"`
	AgentID      string            `json:"agentId,omitempty"`
	Interactions []ixn.Interaction `json:"interactions"`
	// Grant lets the agent that took an interaction out of its workbin
	// join its chat again (auth.Grant).
	Grant string `json:"grant,omitempty"`
}

// loginReply is the EventAck body of RequestAgentLogin.
type loginReply struct {
	agentReply
	// Interactions are those the agent still holds (it logged in again
	// within agent-reconnect-timeout), by id.
	Interactions []heldInteraction `json:"interactions"`
}

// heldInteraction is an interaction an agent holds, with the grant that lets
// it join the interaction's chat (auth.Grant; none without a Trust).
type heldInteraction struct {
	ixn.Interaction
	Grant string `json:"grant,omitempty"`
}

// agentReply is the EventAck body of the agent state requests.
type agentReply struct {
	AgentID  string `json:"agentId"`
	Place    string `json:"place"`
	Capacity int    `json:"capacity"`
	Ready    bool   `json:"ready"`
	Reason   string `json:"reason,omitempty"`
	// Status adds do-not-disturb and each media's state; Reasons are the
	// Not Ready reasons the agent may give (none: free text).
	Status  ixn.AgentStatus      `json:"status"`
	Reasons []ixn.NotReadyReason `json:"reasons,omitempty"`
}
