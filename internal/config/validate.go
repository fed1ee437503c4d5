package config

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// validName keeps application and database names usable as file names
// (run/<app>.pid) and as a chat server's alias.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (d *Deployment) addDatabases(dbs map[string]fileDB) []*Error {
	var errs []*Error
	for _, name := range slices.Sorted(maps.Keys(dbs)) {
		f := dbs[name]
		db := Database{Name: name, Driver: f.Driver, DSN: f.DSN, DSNEnv: f.DSNEnv}
		if e := checkDatabase(db); e != nil {
			errs = append(errs, e)
		}
		d.Databases[name] = db // kept even when invalid, so references to it do not fail twice
	}
	return errs
}

func checkDatabase(db Database) *Error {
	where := fmt.Sprintf("database %q: ", db.Name)
	switch {
	case !validName.MatchString(db.Name):
		return &Error{Msg: where + "invalid name (letters, digits, '.', '_', '-')"}
	case db.Driver != "sqlite" && db.Driver != "postgres":
		return &Error{Msg: where + fmt.Sprintf("driver %q: want sqlite or postgres", db.Driver)}
	case db.DSN != "" && db.DSNEnv != "":
		return &Error{Msg: where + "dsn and dsn-env: not both"}
	case db.DSN == "" && db.DSNEnv == "":
		return &Error{Msg: where + "dsn is empty"}
	}
	return nil
}

// addApplications builds every application, then checks what depends on the
// others (connections, shared listen addresses).
func (d *Deployment) addApplications(apps map[string]fileApp) []*Error {
	if len(apps) == 0 {
		return []*Error{{Msg: "no applications"}}
	}
	var errs []*Error
	names := slices.Sorted(maps.Keys(apps))
	for _, name := range names {
		a, appErrs := d.newApplication(name, apps[name])
		errs = append(errs, appErrs...)
		d.Applications[name] = a
	}
	listeners := map[string]string{} // listen address -> first application on it
	ixnOn := map[string]string{}     // SQLite database -> first interaction server on it
	backups := map[string]string{}   // backup -> first primary naming it
	for _, name := range names {
		a := d.Applications[name]
		for _, e := range slices.Concat(d.checkConnections(a), d.checkWebConnections(a), d.checkChatConnections(a), d.checkStatConnections(a),
			d.checkClusterConnections(a), checkShared(a, listeners), d.checkSoleIxn(a, ixnOn), d.checkBackup(a, backups)) {
			e.App = name
			errs = append(errs, e)
		}
	}
	return errs
}

// newApplication builds one application; the errors carry its name.
func (d *Deployment) newApplication(name string, f fileApp) (*Application, []*Error) {
	a := &Application{Name: name, Type: AppType(f.Type), Listen: f.Listen, AdminListen: f.AdminListen,
		Database: f.Database, Connections: f.Connections, Backup: f.Backup, Log: defaultLogOptions(), Disabled: f.Disabled}
	var errs []*Error
	if !validName.MatchString(name) {
		errs = append(errs, &Error{Msg: "invalid name (letters, digits, '.', '_', '-')"})
	}
	if !slices.Contains(appTypes, a.Type) {
		errs = append(errs, &Error{Option: "type", Value: fmt.Sprintf("%q", f.Type),
			Msg: "unknown application type (want " + typeList() + ")"})
	}
	if a.Type == ChatServer {
		opts := DefaultChatServerOptions()
		a.Chat = &opts
	}
	if a.Type == WebAPI {
		opts := DefaultWebAPIOptions()
		a.Web = &opts
	}
	if a.Type == InteractionServer {
		opts := DefaultInteractionServerOptions()
		a.Ixn = &opts
	}
	if a.Type == InteractionProxy {
		opts := DefaultProxyOptions()
		a.Proxy = &opts
	}
	if a.Type == ApplicationCluster {
		a.Cluster = &ClusterOptions{}
	}
	if a.Type == StatServer {
		opts := DefaultStatServerOptions()
		a.Stat = &opts
	}
	if a.Type != ApplicationCluster || a.Listen != "" { // a cluster is no process: it has no listener
		errs = append(errs, checkListen(a.Listen)...)
	}
	if a.Disabled && a.Type != ChatServer {
		errs = append(errs, &Error{Option: "disabled", Value: "true", Msg: "only a chat-server may be disabled"})
	}
	if a.AdminListen != "" {
		for _, e := range checkListen(a.AdminListen) {
			e.Option = "admin-listen"
			errs = append(errs, e)
		}
	}
	errs = append(errs, d.checkDatabaseRef(a)...)
	errs = append(errs, a.setTLS(f.TLS)...)
	if optErrs := a.setOptions(f.Options); len(optErrs) > 0 {
		errs = append(errs, optErrs...) // validating half-set options would only repeat these
	} else {
		if a.Web != nil && a.Web.Settings.PublicURL == "" {
			a.Web.Settings.PublicURL = DefaultPublicURL(a.Listen, a.TLS != nil)
		}
		errs = append(errs, a.validate()...)
	}
	for _, e := range errs {
		e.App = name
	}
	return a, errs
}

func (a *Application) validate() []*Error {
	errs := a.Log.validate()
	if a.Chat != nil {
		errs = append(errs, a.Chat.validate()...)
	}
	if a.Web != nil {
		errs = append(errs, a.Web.validate()...)
	}
	if a.Ixn != nil {
		errs = append(errs, a.Ixn.validate()...)
	}
	if a.Proxy != nil {
		errs = append(errs, a.Proxy.validate()...)
	}
	if a.Cluster != nil {
		errs = append(errs, a.Cluster.validate()...)

	}
	if a.Stat != nil {
		errs = append(errs, a.Stat.validate()...)
	}
	return append(errs, a.validateClients()...)
}

func typeList() string {
	s := make([]string, len(appTypes))
	for i, t := range appTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func checkListen(listen string) []*Error {
	if listen == "" {
		return []*Error{{Option: "listen", Msg: "missing (want host:port)"}}
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return []*Error{{Option: "listen", Value: listen, Msg: "want host:port"}}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return []*Error{{Option: "listen", Value: listen, Msg: "port must be 1-65535"}}
	}
	return nil
}

func (d *Deployment) checkDatabaseRef(a *Application) []*Error {
	switch {
	case a.Database == "" && a.Type == ChatServer:
		return []*Error{{Option: "database", Msg: "a chat-server needs a database"}}
	case a.Database == "":
		return nil
	}
	if _, ok := d.Databases[a.Database]; ok {
		return nil
	}
	return []*Error{{Option: "database", Value: a.Database, Msg: "no such database in databases"}}
}

func (d *Deployment) checkConnections(a *Application) []*Error {
	var errs []*Error
	for _, c := range a.Connections {
		switch _, ok := d.Applications[c]; {
		case c == a.Name:
			errs = append(errs, &Error{Option: "connections", Value: c, Msg: "an application cannot connect to itself"})
		case !ok:
			errs = append(errs, &Error{Option: "connections", Value: c, Msg: "no such application"})
		}
	}
	return errs
}

// checkChatConnections refuses a chat server connection to anything but an
// interaction server (two names a primary/backup pair), interaction proxies
// or an interaction-proxy cluster. Connections to no application are
// reported by checkConnections.
func (d *Deployment) checkChatConnections(a *Application) []*Error {
	if a.Type != ChatServer {
		return nil
	}
	var errs []*Error
	for _, c := range a.Connections {
		if other, ok := d.Applications[c]; ok && !ixnLike(other) && c != a.Name {
			errs = append(errs, &Error{Option: "connections", Value: c,
				Msg: fmt.Sprintf("a chat-server connects to interaction servers or proxies only (this is a %s)", other.Type)})
		}
	}
	return errs
}

// checkShared refuses a listen address an earlier application already has,
// counting a wildcard host as every host on its port.
func checkShared(a *Application, listeners map[string]string) []*Error {
	errs := shareCheck("listen", a.Listen, a.Name, listeners)
	if a.AdminListen != "" {
		errs = append(errs, shareCheck("admin-listen", a.AdminListen, a.Name, listeners)...)
	}
	if a.Stat != nil && a.Stat.HA.Listen != "" {
		errs = append(errs, shareCheck("[ha] listen", a.Stat.HA.Listen, a.Name, listeners)...)
	}
	return errs
}

// shareCheck refuses addr when another listener of the deployment takes its
// port, then records it for name.
func shareCheck(option, addr, name string, listeners map[string]string) []*Error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil // already reported by checkListen
	}
	for _, other := range slices.Sorted(maps.Keys(listeners)) {
		h, p, _ := net.SplitHostPort(other)
		if p == port && (strings.EqualFold(h, host) || isWildcard(h) || isWildcard(host)) {
			return []*Error{{Option: option, Value: addr, Msg: fmt.Sprintf("also the listen address of %q", listeners[other])}}
		}
	}
	listeners[addr] = name
	return nil
}

// checkSoleIxn refuses a second interaction server on one SQLite database:
// only PostgreSQL has the lock that makes one of them a backup, so both
// would serve and overwrite each other's interactions.
func (d *Deployment) checkSoleIxn(a *Application, ixnOn map[string]string) []*Error {
	db, ok := d.Databases[a.Database]
	if a.Type != InteractionServer || !ok || db.Driver != "sqlite" {
		return nil
	}
	if first, taken := ixnOn[db.Name]; taken {
		return []*Error{{Option: "database", Value: db.Name,
			Msg: fmt.Sprintf("also the database of interaction server %q; two interaction servers need a postgres database (only there does one wait as the other's backup)", first)}}
	}
	ixnOn[db.Name] = a.Name
	return nil
}

// ixnLike reports whether a presents the interaction server's protocol to
// its clients: an interaction server, a proxy, or a cluster of proxies.
func ixnLike(a *Application) bool {
	return a.Type == InteractionServer || a.Type == InteractionProxy ||
		a.Type == ApplicationCluster && a.Cluster != nil && a.Cluster.Type == ClusterOfProxies
}

func isWildcard(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::"
}
