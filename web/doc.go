// Package web holds parley's static web pages, embedded in the binary: the
// customer chat widget under widget/ (plain HTML, CSS and JavaScript, no
// build step, with parley's own small Bayeux client in widget/bayeux.js,
// and widget/embed.js, which embeds it in any site with one script tag),
// the agent desktop under desktop/ (plain HTML, CSS and JavaScript,
// talking to the web API's bridge at /desktop/ws), and parley's icon,
// favicon.ico, drawn by favicon_gen.go. The web API serves them.
package web
