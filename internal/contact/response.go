package contact

// StandardResponse is a canned reply agents insert into a chat (UCS's
// standard responses), kept in the contact store.
type StandardResponse struct {
	// ID is assigned by the store when empty; a known ID is replaced.
	ID   string
	Name string
	Text string
}

// Limits of a standard response, checked by whoever takes one from outside.
const (
	MaxResponseName = 80
	MaxResponseText = 4000
)
