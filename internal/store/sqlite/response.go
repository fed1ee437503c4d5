package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/contact"
)

// SaveStandardResponse stores r, new when r.ID is empty.
func (s *ContactStore) SaveStandardResponse(ctx context.Context, r contact.StandardResponse) (contact.StandardResponse, error) {
	if r.ID == "" {
		r.ID = contact.NewID()
	}
	err := s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		_, err := tx.exec(ctx, `INSERT INTO standard_responses (id, name, body, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body, updated_at = excluded.updated_at`,
			r.ID, r.Name, r.Text, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return contact.StandardResponse{}, fmt.Errorf("sqlite: save standard response %q: %w", r.Name, err)
	}
	return r, nil
}

// StandardResponses returns up to limit responses whose name or text
// contains query, ignoring case, by name.
func (s *ContactStore) StandardResponses(ctx context.Context, query string, limit int) ([]contact.StandardResponse, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, body FROM standard_responses
		WHERE instr(lower(name), ?1) > 0 OR instr(lower(body), ?1) > 0 ORDER BY name, id LIMIT ?2`,
		strings.ToLower(query), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: standard responses %q: %w", query, err)
	}
	defer rows.Close()
	out := []contact.StandardResponse{}
	for rows.Next() {
		var r contact.StandardResponse
		if err := rows.Scan(&r.ID, &r.Name, &r.Text); err != nil {
			return nil, fmt.Errorf("sqlite: standard responses %q: %w", query, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: standard responses %q: %w", query, err)
	}
	return out, nil
}
