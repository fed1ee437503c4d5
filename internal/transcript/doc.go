// Package transcript owns the record of a chat session: parties, events,
// visibility, the chatTranscript XML and JSON encodings of a final transcript,
// and the Store interface of the intermediate (event-by-event) transcript that
// makes session restoration possible.
//
// It is a domain package: no I/O beyond encoding, no goroutines.
package transcript
