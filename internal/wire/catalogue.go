package wire

import "strings"

// Interaction Server message names (public-api-notes §5.1), with the ids of the
// ITX protocol kept in the catalogue. The names of ids 139-142 and 169-172 are
// inferred from their description; ids 175, 178-181 and 191-192 are unnamed in
// the public sources and left out.
const (
	RequestRegisterClient                   = "RequestRegisterClient"
	RequestSubmit                           = "RequestSubmit"
	RequestStopProcessing                   = "RequestStopProcessing"
	RequestChangeProperties                 = "RequestChangeProperties"
	EventPropertiesChanged                  = "EventPropertiesChanged"
	RequestPlaceInQueue                     = "RequestPlaceInQueue"
	RequestPlaceInWorkbin                   = "RequestPlaceInWorkbin"
	RequestDeliver                          = "RequestDeliver"
	RequestPull                             = "RequestPull"
	EventPulledInteractions                 = "EventPulledInteractions"
	RequestTransfer                         = "RequestTransfer"
	RequestConference                       = "RequestConference"
	RequestLeaveInteraction                 = "RequestLeaveInteraction"
	RequestGetWorkbinContent                = "RequestGetWorkbinContent"
	RequestWorkbinNotifications             = "RequestWorkbinNotifications"
	RequestCancelWorkbinNotifications       = "RequestCancelWorkbinNotifications"
	EventWorkbinContent                     = "EventWorkbinContent"
	EventWorkbinContentChanged              = "EventWorkbinContentChanged"
	RequestTakeSnapshot                     = "RequestTakeSnapshot"
	EventSnapshotTaken                      = "EventSnapshotTaken"
	RequestGetSnapshotInteractions          = "RequestGetSnapshotInteractions"
	EventSnapshotInteractions               = "EventSnapshotInteractions"
	RequestLockInteraction                  = "RequestLockInteraction"
	RequestUnlockInteraction                = "RequestUnlockInteraction"
	RequestReleaseSnapshot                  = "RequestReleaseSnapshot"
	EventAck                                = "EventAck"
	EventError                              = "EventError"
	EventInvite                             = "EventInvite"
	RequestAccept                           = "RequestAccept"
	RequestReject                           = "RequestReject"
	RequestIntrude                          = "RequestIntrude"
	EventActivityReport                     = "EventActivityReport"
	EventPartyAdded                         = "EventPartyAdded"
	EventPartyRemoved                       = "EventPartyRemoved"
	EventRevoked                            = "EventRevoked"
	RequestAgentLogin                       = "RequestAgentLogin"
	RequestAgentLogout                      = "RequestAgentLogout"
	EventAgentLogin                         = "EventAgentLogin"
	EventAgentLogout                        = "EventAgentLogout"
	RequestDoNotDisturbOn                   = "RequestDoNotDisturbOn"  // name inferred
	RequestDoNotDisturbOff                  = "RequestDoNotDisturbOff" // name inferred
	EventDoNotDisturbOn                     = "EventDoNotDisturbOn"    // name inferred
	EventDoNotDisturbOff                    = "EventDoNotDisturbOff"   // name inferred
	RequestAddMedia                         = "RequestAddMedia"
	RequestRemoveMedia                      = "RequestRemoveMedia"
	EventMediaAdded                         = "EventMediaAdded"
	EventMediaRemoved                       = "EventMediaRemoved"
	RequestNotReadyForMedia                 = "RequestNotReadyForMedia"
	RequestCancelNotReadyForMedia           = "RequestCancelNotReadyForMedia"
	EventNotReadyForMedia                   = "EventNotReadyForMedia"
	EventReadyForMedia                      = "EventReadyForMedia"
	RequestChangeAgentStateReason           = "RequestChangeAgentStateReason"
	EventAgentStateReasonChanged            = "EventAgentStateReasonChanged"
	RequestChangeMediaStateReason           = "RequestChangeMediaStateReason"
	EventMediaStateReasonChanged            = "EventMediaStateReasonChanged"
	EventCurrentAgentStatus                 = "EventCurrentAgentStatus"
	RequestAgentAvailable                   = "RequestAgentAvailable"
	RequestAgentNotAvailable                = "RequestAgentNotAvailable"
	EventAgentAvailable                     = "EventAgentAvailable"
	EventAgentNotAvailable                  = "EventAgentNotAvailable"
	EventInteractionSubmitted               = "EventInteractionSubmitted"
	EventProcessingStopped                  = "EventProcessingStopped"
	EventPlacedInQueue                      = "EventPlacedInQueue"
	EventPlacedInWorkbin                    = "EventPlacedInWorkbin"
	EventLocked                             = "EventLocked"
	EventUnlocked                           = "EventUnlocked"
	EventAgentInvited                       = "EventAgentInvited"
	EventAccepted                           = "EventAccepted"
	EventRejected                           = "EventRejected"
	RequestStartPlaceAgentStateReporting    = "RequestStartPlaceAgentStateReporting"    // name inferred
	RequestStartPlaceAgentStateReportingAll = "RequestStartPlaceAgentStateReportingAll" // name inferred
	RequestStopPlaceAgentStateReporting     = "RequestStopPlaceAgentStateReporting"     // name inferred
	RequestStopPlaceAgentStateReportingAll  = "RequestStopPlaceAgentStateReportingAll"  // name inferred
	EventPlaceAgentState                    = "EventPlaceAgentState"
	RequestUnregisterClient                 = "RequestUnregisterClient"
	EventCustom                             = "EventCustom"
	RequestPing                             = "RequestPing" // name inferred
	EventTakenFromQueue                     = "EventTakenFromQueue"
	EventTakenFromWorkbin                   = "EventTakenFromWorkbin"
	RequestSubscribe                        = "RequestSubscribe"
	RequestUnsubscribe                      = "RequestUnsubscribe"
	RequestPublish                          = "RequestPublish"
	EventUserEvent                          = "EventUserEvent"
	EventForcedDisconnect                   = "EventForcedDisconnect"
	RequestGetInteractionProperties         = "RequestGetInteractionProperties"
	EventInteractionProperties              = "EventInteractionProperties"
	EventForcedAgentStateChange             = "EventForcedAgentStateChange"
	EventExternalServiceRequested           = "EventExternalServiceRequested"
	EventExternalServiceResponded           = "EventExternalServiceResponded"
	EventAgentConnectionClosed              = "EventAgentConnectionClosed"
)

// Chat server message names (public-api-notes §4.2), with parley's ids from 300.
// RequestSubscribe, RequestUnsubscribe, EventAck and EventError are shared with
// the Interaction Server and keep its ids.
const (
	RequestLogin        = "RequestLogin"
	RequestRefresh      = "RequestRefresh"
	RequestMessage      = "RequestMessage"
	RequestNotify       = "RequestNotify"
	RequestUpdateData   = "RequestUpdateData"
	RequestLogout       = "RequestLogout"
	RequestJoin         = "RequestJoin"
	RequestReleaseParty = "RequestReleaseParty"
	RequestRestore      = "RequestRestore"
	RequestPurge        = "RequestPurge"
	RequestRegister     = "RequestRegister"
	EventStatus         = "EventStatus"
	EventSessionInfo    = "EventSessionInfo"
	EventRegistered     = "EventRegistered"
	EventPing           = "EventPing"
	// RequestCheckParty is the chat server asking the web API whether a
	// client party it subscribed for is still connected (flex-push-timeout).
	RequestCheckParty = "RequestCheckParty"
	// EventLocationChanged tells a party's connection that its session moved
	// to another chat server.
	EventLocationChanged = "EventLocationChanged"
	// RequestGetOverview asks the interaction server for its queues and
	// logged-in agents (the desktop's supervisor view).
	RequestGetOverview = "RequestGetOverview"
	// EventOverview answers RequestGetOverview.
	EventOverview = "EventOverview"
	// RequestWrapUp is the agent desktop's Done: the agent's disposition
	// code for a chat, then its leave (desktop bridge only).
	RequestWrapUp = "RequestWrapUp"
	// RequestGetContactHistory asks, for an agent in a chat, for the chat's
	// contact (by the customer's EmailAddress) and its previous chats.
	RequestGetContactHistory = "RequestGetContactHistory"
	// EventContactHistory answers RequestGetContactHistory.
	EventContactHistory = "EventContactHistory"
	// RequestGetStandardResponses searches, for an agent in a chat, the
	// standard responses (canned replies) of the contact store.
	RequestGetStandardResponses = "RequestGetStandardResponses"
	// RequestSaveStandardResponse adds or changes a standard response.
	RequestSaveStandardResponse = "RequestSaveStandardResponse"
	// EventStandardResponses answers both.
	EventStandardResponses = "EventStandardResponses"
	// RequestFindInteractions searches the interactions by a condition on
	// their properties (a desktop's search).
	RequestFindInteractions = "RequestFindInteractions"
	// EventInteractionsFound answers RequestFindInteractions.
	EventInteractionsFound = "EventInteractionsFound"
)

// Stat Server message names (public-api-notes §6.2), with parley's ids from
// 400: the client protocol, and the replication between the two of a hot
// standby pair.
const (
	RequestOpenStatistic   = "RequestOpenStatistic"
	RequestOpenStatisticEx = "RequestOpenStatisticEx"
	RequestCloseStatistic  = "RequestCloseStatistic"
	RequestGetStatistic    = "RequestGetStatistic"
	EventStatisticOpened   = "EventStatisticOpened"
	EventStatisticClosed   = "EventStatisticClosed"
	EventInfo              = "EventInfo"
	EventStatInvalid       = "EventStatInvalid"
	EventStatValid         = "EventStatValid"
	// RequestHASession opens or restores the replication session of a
	// stat server pair; EventHASession answers it.
	RequestHASession = "RequestHASession"
	EventHASession   = "EventHASession"
	// RequestHAChunk carries statistics and their historical aggregates to
	// the peer; RequestHAClosed the statistics closed. The peer answers
	// EventAck once it has taken them in.
	RequestHAChunk  = "RequestHAChunk"
	RequestHAClosed = "RequestHAClosed"
)

// The External Services Protocol (ESP, public-api-notes §5.2): a workflow's
// request to a server that performs a service, relayed by the interaction
// server, and its answer. A fault is answered with EventError and its code
// (Genesys' Event3rdServerFault carries FaultCode and FaultString).
const (
	Request3rdServer       = "Request3rdServer"
	Event3rdServerResponse = "Event3rdServerResponse"
)

// The opening exchange of every authenticated connection (package auth):
// the client names itself and sends a nonce, the server answers with its
// own nonce and its proof over the client's, the client proves itself over
// the server's, and the server admits it.
const (
	RequestChallenge    = "RequestChallenge"
	EventChallenge      = "EventChallenge"
	RequestAuthenticate = "RequestAuthenticate"
	EventAuthenticated  = "EventAuthenticated"
)

// catalogue maps every known message name to its id.
var catalogue = map[string]int{
	RequestRegisterClient:                   100,
	RequestSubmit:                           101,
	RequestStopProcessing:                   102,
	RequestChangeProperties:                 103,
	EventPropertiesChanged:                  104,
	RequestPlaceInQueue:                     105,
	RequestPlaceInWorkbin:                   106,
	RequestDeliver:                          107,
	RequestPull:                             108,
	EventPulledInteractions:                 109,
	RequestTransfer:                         110,
	RequestConference:                       111,
	RequestLeaveInteraction:                 112,
	RequestGetWorkbinContent:                113,
	RequestWorkbinNotifications:             114,
	RequestCancelWorkbinNotifications:       115,
	EventWorkbinContent:                     116,
	EventWorkbinContentChanged:              117,
	RequestTakeSnapshot:                     118,
	EventSnapshotTaken:                      119,
	RequestGetSnapshotInteractions:          120,
	EventSnapshotInteractions:               121,
	RequestLockInteraction:                  122,
	RequestUnlockInteraction:                123,
	RequestReleaseSnapshot:                  124,
	EventAck:                                125,
	EventError:                              126,
	EventInvite:                             127,
	RequestAccept:                           128,
	RequestReject:                           129,
	RequestIntrude:                          130,
	EventActivityReport:                     131,
	EventPartyAdded:                         132,
	EventPartyRemoved:                       133,
	EventRevoked:                            134,
	RequestAgentLogin:                       135,
	RequestAgentLogout:                      136,
	EventAgentLogin:                         137,
	EventAgentLogout:                        138,
	RequestDoNotDisturbOn:                   139,
	RequestDoNotDisturbOff:                  140,
	EventDoNotDisturbOn:                     141,
	EventDoNotDisturbOff:                    142,
	RequestAddMedia:                         143,
	RequestRemoveMedia:                      144,
	EventMediaAdded:                         145,
	EventMediaRemoved:                       146,
	RequestNotReadyForMedia:                 147,
	RequestCancelNotReadyForMedia:           148,
	EventNotReadyForMedia:                   149,
	EventReadyForMedia:                      150,
	RequestChangeAgentStateReason:           151,
	EventAgentStateReasonChanged:            152,
	RequestChangeMediaStateReason:           153,
	EventMediaStateReasonChanged:            154,
	EventCurrentAgentStatus:                 155,
	RequestAgentAvailable:                   156,
	RequestAgentNotAvailable:                157,
	EventAgentAvailable:                     158,
	EventAgentNotAvailable:                  159,
	EventInteractionSubmitted:               160,
	EventProcessingStopped:                  161,
	EventPlacedInQueue:                      162,
	EventPlacedInWorkbin:                    163,
	EventLocked:                             164,
	EventUnlocked:                           165,
	EventAgentInvited:                       166,
	EventAccepted:                           167,
	EventRejected:                           168,
	RequestStartPlaceAgentStateReporting:    169,
	RequestStartPlaceAgentStateReportingAll: 170,
	RequestStopPlaceAgentStateReporting:     171,
	RequestStopPlaceAgentStateReportingAll:  172,
	EventPlaceAgentState:                    173,
	RequestUnregisterClient:                 174,
	RequestPing:                             175,
	EventCustom:                             176,
	EventTakenFromQueue:                     177,
	EventTakenFromWorkbin:                   182,
	RequestSubscribe:                        183,
	RequestUnsubscribe:                      184,
	RequestPublish:                          185,
	EventUserEvent:                          186,
	EventForcedDisconnect:                   187,
	RequestGetInteractionProperties:         188,
	EventInteractionProperties:              189,
	EventForcedAgentStateChange:             190,
	EventExternalServiceRequested:           193,
	EventExternalServiceResponded:           194,
	EventAgentConnectionClosed:              195,
	RequestLogin:                            300,
	RequestRefresh:                          301,
	RequestMessage:                          302,
	RequestNotify:                           303,
	RequestUpdateData:                       304,
	RequestLogout:                           305,
	RequestJoin:                             306,
	RequestReleaseParty:                     307,
	RequestRestore:                          308,
	RequestPurge:                            309,
	RequestRegister:                         310,
	EventStatus:                             311,
	EventSessionInfo:                        312,
	EventRegistered:                         313,
	EventPing:                               314,
	RequestCheckParty:                       315,
	EventLocationChanged:                    316,
	RequestGetOverview:                      317,
	EventOverview:                           318,
	Request3rdServer:                        340,
	Event3rdServerResponse:                  341,
	RequestChallenge:                        319,
	EventChallenge:                          320,
	RequestAuthenticate:                     321,
	EventAuthenticated:                      322,
	RequestWrapUp:                           360,
	RequestGetContactHistory:                361,
	EventContactHistory:                     362,
	RequestGetStandardResponses:             363,
	RequestSaveStandardResponse:             364,
	EventStandardResponses:                  365,
	RequestFindInteractions:                 323,
	EventInteractionsFound:                  324,
	RequestOpenStatistic:                    400,
	RequestOpenStatisticEx:                  401,
	RequestCloseStatistic:                   402,
	RequestGetStatistic:                     403,
	EventStatisticOpened:                    404,
	EventStatisticClosed:                    405,
	EventInfo:                               406,
	EventStatInvalid:                        407,
	EventStatValid:                          408,
	RequestHASession:                        409,
	EventHASession:                          410,
	RequestHAChunk:                          411,
	RequestHAClosed:                         412,
}

// Known reports whether name is in the message catalogue.
func Known(name string) bool {
	_, ok := catalogue[name]
	return ok
}

// ID returns the catalogue id of name: the Interaction Server id for its
// names, 300 and up for the chat server's. ok is false for an unknown name.
func ID(name string) (id int, ok bool) {
	id, ok = catalogue[name]
	return id, ok
}

// isReply reports whether a message with this name can answer a request:
// anything but a request.
func isReply(name string) bool {
	return !strings.HasPrefix(name, "Request")
}
