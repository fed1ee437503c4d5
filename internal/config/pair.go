package config

import (
	"fmt"
	"maps"
	"slices"
)

// checkBackup checks a chat server's backup (a warm-standby pair, Genesys'
// primary/backup): it names another chat server of the same database, which
// stands by for this one only, has no backup of its own and backs up no
// other; web APIs connect to the primary only and learn the backup from it.
// backups records each backup's first primary.
func (d *Deployment) checkBackup(a *Application, backups map[string]string) []*Error {
	if a.Backup == "" {
		return d.checkNotBackupTarget(a)
	}
	bad := func(msg string) []*Error { return []*Error{{Option: "backup", Value: a.Backup, Msg: msg}} }
	b, ok := d.Applications[a.Backup]
	switch {
	case a.Type != ChatServer:
		return bad("only a chat-server has a backup (two interaction servers on one postgres database pair themselves)")
	case a.Backup == a.Name:
		return bad("a chat server cannot be its own backup")
	case !ok:
		return bad("no such application")
	case b.Type != ChatServer:
		return bad(fmt.Sprintf("the backup of a chat-server is a chat-server (this is a %s)", b.Type))
	case b.Backup != "":
		return bad("the backup has a backup of its own: a pair has two members")
	case b.Database != a.Database:
		return bad(fmt.Sprintf("the backup's database is %q, not %q: it restores the primary's chats from the primary's database", b.Database, a.Database))
	}
	if first, taken := backups[a.Backup]; taken {
		return bad(fmt.Sprintf("also the backup of %q: a backup stands by for one primary", first))
	}
	backups[a.Backup] = a.Name
	return nil
}

// checkNotBackupTarget refuses a web API connection to a backup chat server.
func (d *Deployment) checkNotBackupTarget(a *Application) []*Error {
	if a.Type != WebAPI {
		return nil
	}
	var errs []*Error
	for _, c := range a.Connections {
		if p := d.PrimaryOf(c); p != "" {
			errs = append(errs, &Error{Option: "connections", Value: c,
				Msg: fmt.Sprintf("the backup of %q: connect a web-api to the primary only; it learns the backup by itself", p)})
		}
	}
	return errs
}

// PrimaryOf returns the chat server whose backup is name, or "" when name
// backs up none.
func (d *Deployment) PrimaryOf(name string) string {
	for _, p := range slices.Sorted(maps.Keys(d.Applications)) {
		if d.Applications[p].Backup == name && name != "" {
			return p
		}
	}
	return ""
}

// Pair returns the members of the warm-standby pair name belongs to, the
// configured primary first, and whether it belongs to one.
func (d *Deployment) Pair(name string) (primary, backup string, ok bool) {
	if a := d.Applications[name]; a != nil && a.Backup != "" {
		return name, a.Backup, true
	}
	if p := d.PrimaryOf(name); p != "" {
		return p, name, true
	}
	return "", "", false
}
