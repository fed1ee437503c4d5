// Package contact owns the contact store domain (Genesys UCS): contacts and
// their interaction history, with the final transcript of each chat. It
// defines the records and the Store interface; the stores live in store/*.
package contact
