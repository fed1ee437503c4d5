package config

import "time"

// WebAPILimits is the [limits] section of a web API (parley's own): what
// one client, by its address, may hold of the public listener, and how
// long it may take. 0 turns a count limit off. Durations are whole seconds
// in the file. The zero value is not valid: start from
// DefaultWebAPIOptions.
type WebAPILimits struct {
	// HTTPReadTimeout is http-read-timeout, 1-3600 s, default 30 s: the
	// longest a client may take to send a request, headers and body (an
	// upload included).
	HTTPReadTimeout time.Duration
	// HTTPWriteTimeout is http-write-timeout, 1-3600 s, default 30 s: the
	// longest a response may take to write; a held CometD connect and a
	// file download have their hold or request-timeout on top.
	HTTPWriteTimeout time.Duration
	// HTTPIdleTimeout is http-idle-timeout, 1-3600 s, default 30 s: how long
	// a keep-alive connection may wait for its next request.
	HTTPIdleTimeout time.Duration
	// MaxConnections is max-connections, 0-1000000, default 10000: open HTTP
	// connections of the listener (a WebSocket leaves the count once
	// upgraded; cometd-clients-per-address bounds those).
	MaxConnections int
	// MaxConnectionsPerAddress is max-connections-per-address, 0-1000000,
	// default 1024: open HTTP connections of one client address (an office
	// behind one NAT address included).
	MaxConnectionsPerAddress int
	// NewChatsPerAddress is new-chats-per-address, 0-100000, default 30: the
	// chats one client address may request per minute.
	NewChatsPerAddress int
	// CometDClientsPerAddress is cometd-clients-per-address, 0-1000000,
	// default 256: live CometD clients (handshakes) of one address.
	CometDClientsPerAddress int
	// CometDConnectsPerAddress is cometd-connects-per-address, 0-1000000,
	// default 256: long-polling /meta/connect requests of one address held
	// at once.
	CometDConnectsPerAddress int
	// CometDMaxExtSize is cometd-max-ext-size, 2-65536 bytes, default 4096:
	// the largest ext of a handshake or disconnect kept for a client.
	CometDMaxExtSize int
}

func defaultWebAPILimits() WebAPILimits {
	return WebAPILimits{
		HTTPReadTimeout: 30 * time.Second, HTTPWriteTimeout: 30 * time.Second, HTTPIdleTimeout: 30 * time.Second,
		MaxConnections: 10000, MaxConnectionsPerAddress: 1024, NewChatsPerAddress: 30,
		CometDClientsPerAddress: 256, CometDConnectsPerAddress: 256, CometDMaxExtSize: 4096,
	}
}

func (l WebAPILimits) validate() []*Error {
	return collect("limits",
		secondsIn("http-read-timeout", l.HTTPReadTimeout, 1, 3600),
		secondsIn("http-write-timeout", l.HTTPWriteTimeout, 1, 3600),
		secondsIn("http-idle-timeout", l.HTTPIdleTimeout, 1, 3600),
		intIn("max-connections", l.MaxConnections, 0, 1000000),
		intIn("max-connections-per-address", l.MaxConnectionsPerAddress, 0, 1000000),
		intIn("new-chats-per-address", l.NewChatsPerAddress, 0, 100000),
		intIn("cometd-clients-per-address", l.CometDClientsPerAddress, 0, 1000000),
		intIn("cometd-connects-per-address", l.CometDConnectsPerAddress, 0, 1000000),
		intIn("cometd-max-ext-size", l.CometDMaxExtSize, 2, 65536),
	)
}

func (l *WebAPILimits) section() section {
	return section{
		"http-read-timeout":           &l.HTTPReadTimeout,
		"http-write-timeout":          &l.HTTPWriteTimeout,
		"http-idle-timeout":           &l.HTTPIdleTimeout,
		"max-connections":             &l.MaxConnections,
		"max-connections-per-address": &l.MaxConnectionsPerAddress,
		"new-chats-per-address":       &l.NewChatsPerAddress,
		"cometd-clients-per-address":  &l.CometDClientsPerAddress,
		"cometd-connects-per-address": &l.CometDConnectsPerAddress,
		"cometd-max-ext-size":         &l.CometDMaxExtSize,
	}
}

// ChatLimits is the [limits] section of a chat server (parley's own): what
// the parties of one session may add to it. 0 turns a limit off. Changes
// apply to sessions created or restored from then on.
type ChatLimits struct {
	// MaxMessageLength is max-message-length, 0-16777216 bytes, default
	// 16384: the longest text of a party's message or notice.
	MaxMessageLength int
	// TranscriptMaxSize is transcript-max-size, 0-1073741823 bytes, default
	// 1048576: a session's events, counted as the bytes of their texts,
	// user data and attributes.
	TranscriptMaxSize int
	// TranscriptMaxEvents is transcript-max-events, 0-1000000, default
	// 5000: a session's events.
	TranscriptMaxEvents int
	// PartyMessageRate is party-message-rate, 0-1000 per second, default 5:
	// the messages and notices one client (customer) party may send per
	// second on average; agents, supervisors and bots are not rated.
	PartyMessageRate int
	// PartyMessageBurst is party-message-burst, 1-10000, default 20: how
	// many of them it may send at once.
	PartyMessageBurst int
}

func defaultChatLimits() ChatLimits {
	return ChatLimits{MaxMessageLength: 16384, TranscriptMaxSize: 1 << 20, TranscriptMaxEvents: 5000,
		PartyMessageRate: 5, PartyMessageBurst: 20}
}

func (l ChatLimits) validate() []*Error {
	return collect("limits",
		intIn("max-message-length", l.MaxMessageLength, 0, 16777216),
		intIn("transcript-max-size", l.TranscriptMaxSize, 0, 1073741823),
		intIn("transcript-max-events", l.TranscriptMaxEvents, 0, 1000000),
		intIn("party-message-rate", l.PartyMessageRate, 0, 1000),
		intIn("party-message-burst", l.PartyMessageBurst, 1, 10000),
	)
}

func (l *ChatLimits) section() section {
	return section{
		"max-message-length":    &l.MaxMessageLength,
		"transcript-max-size":   &l.TranscriptMaxSize,
		"transcript-max-events": &l.TranscriptMaxEvents,
		"party-message-rate":    &l.PartyMessageRate,
		"party-message-burst":   &l.PartyMessageBurst,
	}
}
