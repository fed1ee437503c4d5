package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/contact"
)

// SaveStandardResponse stores r, new when r.ID is empty.
func (s *ContactStore) SaveStandardResponse(ctx context.Context, r contact.StandardResponse) (contact.StandardResponse, error) {
	if r.ID == "" {
		r.ID = contact.NewID()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO standard_responses (id, name, body, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body, updated_at = excluded.updated_at`,
		r.ID, r.Name, r.Text)
	if err != nil {
		return contact.StandardResponse{}, fmt.Errorf("postgres: save standard response %q: %w", r.Name, err)
	}
	return r, nil
}

// StandardResponses returns up to limit responses whose name or text
// contains query, ignoring case, by name.
func (s *ContactStore) StandardResponses(ctx context.Context, query string, limit int) ([]contact.StandardResponse, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, body FROM standard_responses
		WHERE strpos(lower(name), $1) > 0 OR strpos(lower(body), $1) > 0 ORDER BY name, id LIMIT $2`,
		strings.ToLower(query), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: standard responses %q: %w", query, err)
	}
	defer rows.Close()
	out := []contact.StandardResponse{}
	for rows.Next() {
		var r contact.StandardResponse
		if err := rows.Scan(&r.ID, &r.Name, &r.Text); err != nil {
			return nil, fmt.Errorf("postgres: standard responses %q: %w", query, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: standard responses %q: %w", query, err)
	}
	return out, nil
}
