package config

import (
	"net/url"
	"slices"
	"strings"
)

// Push types GMS names in [push] pushEnabled.
var gmsPushTypes = []string{"android", "gcm", "ios", "httpcb", "orscb", "customhttp", "fcm", "comet"}

// PushOptions is the [push] section of a web API, with GMS's option names:
// which push types chats may ask for (userData push_notification_type) and
// where custom-http notifications go. The zero value is not valid: start
// from DefaultWebAPIOptions.
type PushOptions struct {
	// PushEnabled is pushEnabled, default "comet": a comma-separated list of
	// the enabled push types, among android, gcm, ios, httpcb, orscb,
	// customhttp, fcm and comet. A chat may ask only for an enabled type.
	PushEnabled string
	// CustomHTTPURL is customhttp.url, default empty: where custom-http
	// notifications are POSTed. Required when pushEnabled lists customhttp.
	CustomHTTPURL string
	// CustomHTTPRetries is customhttp.retries, 0-10, default 3: how many
	// times a failed POST is tried again before the notification is dropped.
	CustomHTTPRetries int
	// CustomHTTPQueue is customhttp.queue-size, 1-1000000, default 10000: the
	// notifications waiting for delivery, per web API; past it new ones are
	// dropped.
	CustomHTTPQueue int
}

// Enabled reports whether pushEnabled lists push type typ.
func (p PushOptions) Enabled(typ string) bool {
	return slices.Contains(p.types(), typ)
}

func (p PushOptions) types() []string {
	var out []string
	for _, t := range strings.Split(p.PushEnabled, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (p *PushOptions) section() section {
	return section{
		"pushEnabled":           &p.PushEnabled,
		"customhttp.url":        &p.CustomHTTPURL,
		"customhttp.retries":    &p.CustomHTTPRetries,
		"customhttp.queue-size": &p.CustomHTTPQueue,
	}
}

func (p PushOptions) validate() []*Error {
	var errs []*Error
	for _, t := range p.types() {
		errs = append(errs, oneOf("pushEnabled", t, gmsPushTypes...))
	}
	if p.CustomHTTPURL != "" {
		if u, err := url.Parse(p.CustomHTTPURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, &Error{Option: "customhttp.url", Value: p.CustomHTTPURL, Msg: "want an http or https URL"})
		}
	} else if p.Enabled("customhttp") {
		errs = append(errs, &Error{Option: "customhttp.url", Msg: "required when pushEnabled lists customhttp"})
	}
	errs = append(errs, intIn("customhttp.retries", p.CustomHTTPRetries, 0, 10),
		intIn("customhttp.queue-size", p.CustomHTTPQueue, 1, 1000000))
	return collect("push", errs...)
}
