package config

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultQueue is the queue of every service when [endpoints] is empty.
const DefaultQueue = "default"

// WebAPIOptions holds the option sections of a web-api application except
// [log], which every application type has.
type WebAPIOptions struct {
	// Endpoints is [endpoints]: each option is a GMS service name and its
	// value the queue chats requested on that service go to (the role of
	// Genesys' [endpoints:<tenant>]). Empty or nil accepts every service and
	// routes it to DefaultQueue.
	Endpoints map[string]string
	Settings  WebAPISettings // [settings]
	CometD    CometDOptions  // [cometd]
	Push      PushOptions    // [push]
	Limits    WebAPILimits   // [limits]
}

// WebAPISettings is the [settings] section of a web API. Durations are whole
// seconds in the file. The zero value is not valid: start from
// DefaultWebAPIOptions.
type WebAPISettings struct {
	// RestSubscriptionIdle is rest-subscription-idle, 1-3600 s, default 30 s:
	// a REST chat's push subscription is dropped after this long without a
	// poll, and its client then counts as disconnected.
	RestSubscriptionIdle time.Duration
	// StatusPollInterval is status-poll-interval, 1-60 s, default 1 s: how
	// often each chat server's GET /status is read for selection.
	StatusPollInterval time.Duration
	// RequestTimeout is request-timeout, 1-120 s, default 10 s: the longest
	// wait for a chat server's answer to one request.
	RequestTimeout time.Duration
	// PublicURL is public-url: the http or https URL browsers load the web
	// API's pages from, behind any proxy (a path is allowed; its origin is
	// what counts). Empty in DefaultWebAPIOptions; Parse fills in
	// DefaultPublicURL of the application's listen address and tls key.
	PublicURL string
	// AllowedOrigins is allowed-origins, default empty: a comma-separated
	// list of further origins (scheme://host[:port], no path, no "*") whose
	// pages may use the Chat API, CometD and the desktop bridge from a
	// browser, and embed the widget. The origin of PublicURL is always
	// allowed.
	AllowedOrigins string
	// Dispositions is disposition-codes, default DefaultDispositionCodes: the
	// comma-separated wrap-up codes an agent picks one of before a chat is
	// done (DispositionCodes); empty, the desktop asks for none.
	Dispositions string
}

// CometDOptions is the [cometd] section of a web API: the Bayeux advice its
// CometD endpoint gives clients. Durations are whole seconds in the file.
// The zero value is not valid: start from DefaultWebAPIOptions.
type CometDOptions struct {
	// Timeout is timeout, 1-600 s, default 30 s: how long a /meta/connect
	// is held when there is nothing to deliver. Keep it below the idle
	// timeout of any proxy in front of the web API.
	Timeout time.Duration
	// MaxInterval is max-interval, 1-3600 s, default 10 s: how long a client
	// may go without a /meta/connect before it counts as gone; its chat
	// server subscriptions are then dropped.
	MaxInterval time.Duration
}

// DefaultWebAPIOptions returns every web-api option at its default.
func DefaultWebAPIOptions() WebAPIOptions {
	return WebAPIOptions{
		Settings: WebAPISettings{
			RestSubscriptionIdle: 30 * time.Second,
			StatusPollInterval:   1 * time.Second,
			RequestTimeout:       10 * time.Second,
			Dispositions:         DefaultDispositionCodes,
		},
		CometD: CometDOptions{Timeout: 30 * time.Second, MaxInterval: 10 * time.Second},
		Push:   PushOptions{PushEnabled: "comet", CustomHTTPRetries: 3, CustomHTTPQueue: 10000},
		Limits: defaultWebAPILimits(),
	}
}

// Queue returns the queue service maps to, and false when [endpoints] lists
// services and service is not one of them.
func (o WebAPIOptions) Queue(service string) (string, bool) {
	if len(o.Endpoints) == 0 {
		return DefaultQueue, true
	}
	q, ok := o.Endpoints[service]
	return q, ok
}

// Validate checks every option against its range. It returns *Error values
// (joined when there are several) naming the section and option; File and
// App are left for the caller to fill in.
func (o WebAPIOptions) Validate() error {
	return joinErrors(o.validate())
}

func (o WebAPIOptions) validate() []*Error {
	var errs []*Error
	for _, service := range slices.Sorted(maps.Keys(o.Endpoints)) {
		switch {
		case !validName.MatchString(service):
			errs = append(errs, &Error{Option: service, Msg: "invalid service name (letters, digits, '.', '_', '-')"})
		case o.Endpoints[service] == "":
			errs = append(errs, &Error{Option: service, Msg: "empty queue"})
		}
	}
	errs = collect("endpoints", errs...)
	errs = append(errs, collect("settings",
		secondsIn("rest-subscription-idle", o.Settings.RestSubscriptionIdle, 1, 3600),
		secondsIn("status-poll-interval", o.Settings.StatusPollInterval, 1, 60),
		secondsIn("request-timeout", o.Settings.RequestTimeout, 1, 120),
	)...)
	errs = append(errs, collect("settings", o.Settings.validateOrigins()...)...)
	errs = append(errs, collect("settings", o.Settings.validateDispositions()...)...)
	errs = append(errs, collect("cometd",
		secondsIn("timeout", o.CometD.Timeout, 1, 600),
		secondsIn("max-interval", o.CometD.MaxInterval, 1, 3600),
	)...)
	errs = append(errs, o.Limits.validate()...)
	return append(errs, o.Push.validate()...)
}

func (s *WebAPISettings) section() section {
	return section{
		"rest-subscription-idle": &s.RestSubscriptionIdle,
		"status-poll-interval":   &s.StatusPollInterval,
		"request-timeout":        &s.RequestTimeout,
		"public-url":             &s.PublicURL,
		"allowed-origins":        &s.AllowedOrigins,
		"disposition-codes":      &s.Dispositions,
	}
}

func (c *CometDOptions) section() section {
	return section{"timeout": &c.Timeout, "max-interval": &c.MaxInterval}
}

// setEndpoints reads [endpoints], whose option names are not fixed: each is
// a service name.
func (o *WebAPIOptions) setEndpoints(raw map[string]yaml.Node) []*Error {
	var errs []*Error
	o.Endpoints = make(map[string]string, len(raw))
	for _, service := range slices.Sorted(maps.Keys(raw)) {
		node := raw[service]
		var queue string
		if e := setScalar(&queue, &node); e != nil {
			e.Section, e.Option = "endpoints", service
			errs = append(errs, e)
			continue
		}
		o.Endpoints[service] = queue
	}
	return errs
}

// checkWebConnections refuses a web API connection to anything but chat
// servers and at most two interaction servers (a primary/backup pair, which
// agent desktops log in to through the web API); connections to no
// application are reported by checkConnections.
func (d *Deployment) checkWebConnections(a *Application) []*Error {
	if a.Type != WebAPI {
		return nil
	}
	var errs []*Error
	ixns := 0
	for _, c := range a.Connections {
		other, ok := d.Applications[c]
		switch {
		case !ok || c == a.Name || other.Type == ChatServer:
		case other.Type == InteractionProxy || other.Type == ApplicationCluster && ixnLike(other):
		case other.Type == InteractionServer:
			if ixns++; ixns > 2 {
				errs = append(errs, &Error{Option: "connections", Value: c,
					Msg: "at most two interaction servers (a primary/backup pair)"})
			}
		case other.Type == StatServer: // a stat-client of it (a pair: both)
		default:
			errs = append(errs, &Error{Option: "connections", Value: c,
				Msg: fmt.Sprintf("a web-api connects to chat servers, interaction servers, proxies and stat servers only (this is a %s)", other.Type)})
		}
	}
	return errs
}
