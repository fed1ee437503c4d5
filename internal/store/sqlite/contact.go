package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
)

// ContactStore is the contact store: contacts and their interaction history.
// It is safe for concurrent use.
type ContactStore struct {
	db *sql.DB
	w  *writer
}

// SaveInteraction stores in, replacing a record with the same id, and links
// it to a contact: in.ContactID when set (contact.ErrNotFound if unknown),
// else the contact with c's email, created from c if there is none, else the
// contact of the record being replaced, else a new contact from c. Contact
// and interaction are written in one transaction.
func (s *ContactStore) SaveInteraction(ctx context.Context, c contact.Contact, in contact.Interaction) (contact.Interaction, error) {
	parties, err := json.Marshal(in.Parties)
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("sqlite: save interaction %s: %w", in.ID, err)
	}
	ud, err := json.Marshal(in.UserData)
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("sqlite: save interaction %s: %w", in.ID, err)
	}
	var contactID string
	err = s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		return tx.atomic(ctx, func() error {
			id, err := resolveContact(ctx, tx, c, in)
			if err != nil {
				return err
			}
			contactID = id
			rec := in
			rec.ContactID = id
			return upsertInteraction(ctx, tx, rec, parties, ud)
		})
	})
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("sqlite: save interaction %s: %w", in.ID, err)
	}
	in.ContactID = contactID
	return in, nil
}

// resolveContact finds or creates the contact of in; the transaction holds
// the write lock, so no other writer can insert the same email meanwhile.
func resolveContact(ctx context.Context, tx *batchTx, c contact.Contact, in contact.Interaction) (string, error) {
	if in.ContactID != "" {
		return in.ContactID, exists(ctx, tx, `SELECT count(*) FROM contacts WHERE id = ?`, in.ContactID)
	}
	var id string
	var err error
	if c.EmailAddress != "" {
		err = tx.queryRow(ctx, `SELECT id FROM contacts WHERE email = ?`, c.EmailAddress).Scan(&id)
	} else {
		err = tx.queryRow(ctx, `SELECT contact_id FROM interactions WHERE id = ?`, in.ID).Scan(&id)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	id = contact.NewID()
	_, err = tx.exec(ctx, `INSERT INTO contacts (id, first_name, last_name, email, nickname) VALUES (?, ?, ?, ?, ?)`,
		id, c.FirstName, c.LastName, c.EmailAddress, c.Nickname)
	return id, err
}

// exists returns contact.ErrNotFound unless query counts at least one row.
func exists(ctx context.Context, tx *batchTx, query, id string) error {
	var n int
	if err := tx.queryRow(ctx, query, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("contact %s: %w", id, contact.ErrNotFound)
	}
	return nil
}

// upsertInteraction writes in, its parties and user data already encoded so
// that the writer goroutine only writes.
func upsertInteraction(ctx context.Context, tx *batchTx, in contact.Interaction, parties, ud []byte) error {
	_, err := tx.exec(ctx, `INSERT OR REPLACE INTO interactions (`+interactionCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.ID, in.ContactID, in.MediaType, in.TypeID, in.SubtypeID, in.Subject,
		millis(in.StartedAt), millis(in.EndedAt), in.Owner, string(parties), string(ud),
		in.TranscriptXML, string(in.TranscriptJSON))
	return err
}

// Interaction returns a stored interaction, or contact.ErrNotFound.
func (s *ContactStore) Interaction(ctx context.Context, id string) (contact.Interaction, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+interactionCols+` FROM interactions WHERE id = ?`, id)
	in, err := scanInteraction(row)
	if err != nil {
		return contact.Interaction{}, fmt.Errorf("sqlite: interaction %s: %w", id, err)
	}
	return in, nil
}

// Contact returns a stored contact, or contact.ErrNotFound.
func (s *ContactStore) Contact(ctx context.Context, id string) (contact.Contact, error) {
	var c contact.Contact
	err := s.db.QueryRowContext(ctx, `SELECT id, first_name, last_name, email, nickname FROM contacts WHERE id = ?`, id).
		Scan(&c.ID, &c.FirstName, &c.LastName, &c.EmailAddress, &c.Nickname)
	if errors.Is(err, sql.ErrNoRows) {
		err = contact.ErrNotFound
	}
	if err != nil {
		return contact.Contact{}, fmt.Errorf("sqlite: contact %s: %w", id, err)
	}
	return c, nil
}

// ContactByEmail returns the contact with email, or contact.ErrNotFound.
func (s *ContactStore) ContactByEmail(ctx context.Context, email string) (contact.Contact, error) {
	var c contact.Contact
	err := s.db.QueryRowContext(ctx, `SELECT id, first_name, last_name, email, nickname FROM contacts WHERE email = ?`, email).
		Scan(&c.ID, &c.FirstName, &c.LastName, &c.EmailAddress, &c.Nickname)
	if email == "" || errors.Is(err, sql.ErrNoRows) {
		err = contact.ErrNotFound
	}
	if err != nil {
		return contact.Contact{}, fmt.Errorf("sqlite: contact of %q: %w", email, err)
	}
	return c, nil
}

// ContactInteractions lists a contact's interactions, newest first; an
// unknown contact has none.
func (s *ContactStore) ContactInteractions(ctx context.Context, contactID string) ([]contact.Interaction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+interactionCols+` FROM interactions
		WHERE contact_id = ? ORDER BY started_at DESC, id DESC`, contactID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: interactions of %s: %w", contactID, err)
	}
	defer rows.Close()
	var out []contact.Interaction
	for rows.Next() {
		in, err := scanInteraction(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: interactions of %s: %w", contactID, err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: interactions of %s: %w", contactID, err)
	}
	return out, nil
}

const interactionCols = `id, contact_id, media_type, type_id, subtype_id, subject,
	started_at, ended_at, owner, parties, user_data, transcript_xml, transcript_json`

// scanInteraction reads a row of interactionCols; a missing row is contact.ErrNotFound.
func scanInteraction(row interface{ Scan(...any) error }) (contact.Interaction, error) {
	var in contact.Interaction
	var started, ended sql.NullInt64
	var parties, ud, tj []byte
	err := row.Scan(&in.ID, &in.ContactID, &in.MediaType, &in.TypeID, &in.SubtypeID, &in.Subject,
		&started, &ended, &in.Owner, &parties, &ud, &in.TranscriptXML, &tj)
	if errors.Is(err, sql.ErrNoRows) {
		return in, contact.ErrNotFound
	}
	if err != nil {
		return in, err
	}
	in.StartedAt, in.EndedAt = fromMillis(started), fromMillis(ended)
	if len(tj) > 0 {
		in.TranscriptJSON = tj
	}
	if err := json.Unmarshal(parties, &in.Parties); err != nil {
		return in, err
	}
	in.UserData, err = transcript.DecodeUserData(ud)
	return in, err
}

// millis is t as UTC epoch milliseconds, NULL for the zero time.
func millis(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: !t.IsZero()}
}

func fromMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}

var _ contact.Store = (*ContactStore)(nil)
