package postgres

import (
	"context"
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
	w    *writer
}

// SaveInteraction stores in, replacing a record with the same id, and links
// it to a contact: in.ContactID when set (contact.ErrNotFound if unknown),
// else the contact with c's email, created from c if there is none, else the
// contact of the record being replaced, else a new contact from c. It is one
// statement, so one round trip, and atomic: a chat server files a final
// transcript for every chat that ends, so it goes through the writer and
// shares a batch with other chats' writes.
func (s *ContactStore) SaveInteraction(ctx context.Context, c contact.Contact, in contact.Interaction) (contact.Interaction, error) {
	args, err := interactionArgs(in)
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("postgres: save interaction %s: %w", in.ID, err)
	}
	var sql string
	switch {
	case in.ContactID != "":
		sql = `WITH c AS (SELECT id FROM contacts WHERE id = $13)`
		args = append(args, in.ContactID)
	case c.EmailAddress != "":
		// Inserts or, on a taken email, returns the existing id: two
		// concurrent saves for a new email end on one contact.
		sql = `WITH c AS (INSERT INTO contacts (id, first_name, last_name, email, nickname)
			VALUES ($13, $14, $15, $16, $17) ON CONFLICT (email) WHERE email <> '' DO UPDATE SET email = EXCLUDED.email
			RETURNING id)`
		args = append(args, contact.NewID(), c.FirstName, c.LastName, c.EmailAddress, c.Nickname)
	default:
		sql = `WITH prior AS (SELECT contact_id AS id FROM interactions WHERE id = $1),
			fresh AS (INSERT INTO contacts (id, first_name, last_name, email, nickname)
				SELECT $13, $14, $15, '', $16 WHERE NOT EXISTS (SELECT 1 FROM prior) RETURNING id),
			c AS (SELECT id FROM prior UNION ALL SELECT id FROM fresh)`
		args = append(args, contact.NewID(), c.FirstName, c.LastName, c.Nickname)
	}
	var id string
	err = s.w.do(ctx, func(b *pgx.Batch, res *error) {
		b.Queue(sql+upsertInteraction, args...).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				*res = fmt.Errorf("contact %s: %w", in.ContactID, contact.ErrNotFound)
				return nil
			}
			return err
		})
	})
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("postgres: save interaction %s: %w", in.ID, err)
	}
	in.ContactID = id
	return in, nil
}

// upsertInteraction follows a CTE c holding the contact's id; it inserts or
// replaces the interaction of interactionArgs and returns the contact id, or
// no row when c is empty (an unknown contact).
const upsertInteraction = `
	INSERT INTO interactions (` + interactionCols + `)
	SELECT $1::text, c.id, $2::text, $3::text, $4::text, $5::text, $6::timestamptz, $7::timestamptz,
		$8::text, $9::jsonb, $10::jsonb, $11::text, $12::text FROM c
	ON CONFLICT (id) DO UPDATE SET contact_id = EXCLUDED.contact_id, media_type = EXCLUDED.media_type,
		type_id = EXCLUDED.type_id, subtype_id = EXCLUDED.subtype_id, subject = EXCLUDED.subject,
		started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, owner = EXCLUDED.owner,
		parties = EXCLUDED.parties, user_data = EXCLUDED.user_data,
		transcript_xml = EXCLUDED.transcript_xml, transcript_json = EXCLUDED.transcript_json
	RETURNING contact_id`

// interactionArgs are $1-$12 of upsertInteraction.
func interactionArgs(in contact.Interaction) ([]any, error) {
	parties, err := json.Marshal(in.Parties)
	if err != nil {
		return nil, err
	}
	ud, err := json.Marshal(in.UserData)
	if err != nil {
		return nil, err
	}
	return []any{in.ID, in.MediaType, in.TypeID, in.SubtypeID, in.Subject,
		nullTime(in.StartedAt), nullTime(in.EndedAt), in.Owner, json.RawMessage(parties), json.RawMessage(ud),
		in.TranscriptXML, string(in.TranscriptJSON)}, nil
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

// ContactByEmail returns the contact with email, or contact.ErrNotFound.
func (s *ContactStore) ContactByEmail(ctx context.Context, email string) (contact.Contact, error) {
	var c contact.Contact
	err := s.pool.QueryRow(ctx, `SELECT id, first_name, last_name, email, nickname FROM contacts WHERE email = $1`, email).
		Scan(&c.ID, &c.FirstName, &c.LastName, &c.EmailAddress, &c.Nickname)
	if email == "" || errors.Is(err, pgx.ErrNoRows) {
		err = contact.ErrNotFound
	}
	if err != nil {
		return contact.Contact{}, fmt.Errorf("postgres: contact of %q: %w", email, err)
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

var _ contact.Store = (*ContactStore)(nil)
