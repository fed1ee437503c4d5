package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
)

// ContactStore is the contact store: contacts and their interaction history.
// It is safe for concurrent use.
type ContactStore struct {
	pool *pgxpool.Pool
}

// SaveInteraction stores in, replacing a record with the same id, and links
// it to a contact: in.ContactID when set (contact.ErrNotFound if unknown),
// else the contact with c's email, created from c if there is none, else the
// contact of the record being replaced, else a new contact from c. Contact
// and interaction are written in one transaction.
func (s *ContactStore) SaveInteraction(ctx context.Context, c contact.Contact, in contact.Interaction) (contact.Interaction, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := resolveContact(ctx, tx, c, in)
		if err != nil {
			return err
		}
		in.ContactID = id
		return upsertInteraction(ctx, tx, in)
	})
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("postgres: save interaction %s: %w", in.ID, err)
	}
	return in, nil
}

// resolveContact finds or creates the contact of in.
func resolveContact(ctx context.Context, tx pgx.Tx, c contact.Contact, in contact.Interaction) (string, error) {
	if in.ContactID != "" {
		var found bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)`, in.ContactID).Scan(&found)
		if err == nil && !found {
			err = fmt.Errorf("contact %s: %w", in.ContactID, contact.ErrNotFound)
		}
		return in.ContactID, err
	}
	id := newID()
	if c.EmailAddress != "" {
		// One statement that inserts or, on a taken email, returns the existing
		// id: two concurrent saves for a new email end on one contact.
		err := tx.QueryRow(ctx, `INSERT INTO contacts (id, first_name, last_name, email, nickname)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) WHERE email <> '' DO UPDATE SET email = EXCLUDED.email
			RETURNING id`, id, c.FirstName, c.LastName, c.EmailAddress, c.Nickname).Scan(&id)
		return id, err
	}
	err := tx.QueryRow(ctx, `SELECT contact_id FROM interactions WHERE id = $1`, in.ID).Scan(&id)
	if !errors.Is(err, pgx.ErrNoRows) {
		return id, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO contacts (id, first_name, last_name, email, nickname) VALUES ($1, $2, $3, '', $4)`,
		id, c.FirstName, c.LastName, c.Nickname)
	return id, err
}

func upsertInteraction(ctx context.Context, tx pgx.Tx, in contact.Interaction) error {
	parties, err := json.Marshal(in.Parties)
	if err != nil {
		return err
	}
	ud, err := json.Marshal(in.UserData)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO interactions (`+interactionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (id) DO UPDATE SET contact_id = EXCLUDED.contact_id, media_type = EXCLUDED.media_type,
			type_id = EXCLUDED.type_id, subtype_id = EXCLUDED.subtype_id, subject = EXCLUDED.subject,
			started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, owner = EXCLUDED.owner,
			parties = EXCLUDED.parties, user_data = EXCLUDED.user_data,
			transcript_xml = EXCLUDED.transcript_xml, transcript_json = EXCLUDED.transcript_json`,
		in.ID, in.ContactID, in.MediaType, in.TypeID, in.SubtypeID, in.Subject,
		nullTime(in.StartedAt), nullTime(in.EndedAt), in.Owner, json.RawMessage(parties), json.RawMessage(ud),
		in.TranscriptXML, string(in.TranscriptJSON))
	return err
}

// Interaction returns a stored interaction, or contact.ErrNotFound.
func (s *ContactStore) Interaction(ctx context.Context, id string) (contact.Interaction, error) {
	in, err := scanInteraction(s.pool.QueryRow(ctx, `SELECT `+interactionCols+` FROM interactions WHERE id = $1`, id))
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("postgres: interaction %s: %w", id, err)
	}
	return in, nil
}

// Contact returns a stored contact, or contact.ErrNotFound.
func (s *ContactStore) Contact(ctx context.Context, id string) (contact.Contact, error) {
	var c contact.Contact
	err := s.pool.QueryRow(ctx, `SELECT id, first_name, last_name, email, nickname FROM contacts WHERE id = $1`, id).
		Scan(&c.ID, &c.FirstName, &c.LastName, &c.EmailAddress, &c.Nickname)
	if errors.Is(err, pgx.ErrNoRows) {
		err = contact.ErrNotFound
	}
	if err != nil {
		return contact.Contact{}, fmt.Errorf("postgres: contact %s: %w", id, err)
	}
	return c, nil
}

// ContactInteractions lists a contact's interactions, newest first; an
// unknown contact has none.
func (s *ContactStore) ContactInteractions(ctx context.Context, contactID string) ([]contact.Interaction, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+interactionCols+` FROM interactions
		WHERE contact_id = $1 ORDER BY started_at DESC NULLS LAST, id DESC`, contactID)
	if err != nil {
		return nil, fmt.Errorf("postgres: interactions of %s: %w", contactID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (contact.Interaction, error) { return scanInteraction(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: interactions of %s: %w", contactID, err)
	}
	return out, nil
}

const interactionCols = `id, contact_id, media_type, type_id, subtype_id, subject,
	started_at, ended_at, owner, parties, user_data, transcript_xml, transcript_json`

// scanInteraction reads a row of interactionCols; a missing row is contact.ErrNotFound.
func scanInteraction(row pgx.Row) (contact.Interaction, error) {
	var in contact.Interaction
	var started, ended *time.Time
	var parties, ud []byte
	var tj string
	err := row.Scan(&in.ID, &in.ContactID, &in.MediaType, &in.TypeID, &in.SubtypeID, &in.Subject,
		&started, &ended, &in.Owner, &parties, &ud, &in.TranscriptXML, &tj)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, contact.ErrNotFound
	}
	if err != nil {
		return in, err
	}
	in.StartedAt, in.EndedAt = fromNull(started), fromNull(ended)
	if tj != "" {
		in.TranscriptJSON = []byte(tj)
	}
	if err := json.Unmarshal(parties, &in.Parties); err != nil {
		return in, err
	}
	in.UserData, err = transcript.DecodeUserData(ud)
	return in, err
}

// nullTime is t at millisecond precision, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = toMillis(t)
	return &t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// newID returns a random 16-hex-digit id.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

var _ contact.Store = (*ContactStore)(nil)
