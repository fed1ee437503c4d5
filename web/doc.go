// Package web holds parley's static web pages, embedded in the binary: the
// customer chat widget under widget/ (plain HTML, CSS and JavaScript, no
// build step, with parley's own small Bayeux client in widget/bayeux.js),
// and the agent desktop under desktop/ (plain HTML, CSS and
// JavaScript, talking to the web API's bridge at /desktop/ws). The web API
// serves them.
package web
