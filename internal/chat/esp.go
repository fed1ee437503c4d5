package chat

import (
	"cmp"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// ESPProtocol is the protocol of the parties a workflow adds to a chat and
// speaks as through ESP, the interaction server's relay (the seed's
// transcripts show them as userType EXTERNAL, protocolType ESP). Nobody is
// connected behind them, so they keep no chat open: a chat whose other
// parties all left ends.
const ESPProtocol = "ESP"

// SystemNickname is the nickname of the ESP party a workflow's messages and
// notices come from when it names none.
const SystemNickname = "system"

// JoinESP adds an ESP party with id: an External party that only ESP
// requests act as. An empty nickname is SystemNickname; an empty visibility
// is ALL.
func (s *Session) JoinESP(now time.Time, id, nickname string, vis transcript.Visibility, userData map[string]string) (transcript.Party, Step, error) {
	p := transcript.Party{ID: id, Type: transcript.External, Nickname: cmp.Or(nickname, SystemNickname),
		Protocol: ESPProtocol, Visibility: vis, UserData: userData}
	return s.Join(now, p, "")
}

// ESPParty returns the id of the present ESP party called nickname, the
// first one to have joined; ok is false when there is none.
func (s *Session) ESPParty(nickname string) (id string, ok bool) {
	for _, m := range s.members {
		if m.present && m.Protocol == ESPProtocol && m.Nickname == nickname {
			return m.ID, true
		}
	}
	return "", false
}

// CheckESP returns nil when id is a present ESP party of the open session:
// a workflow may act as its own parties only, never as a customer, an agent
// or a bot that joined on a connection. It returns ErrClosed,
// ErrNoSuchParty, ErrPartyLeft, or ErrNotAllowed for another kind of party.
func (s *Session) CheckESP(id string) error {
	m, err := s.active(id)
	if err != nil {
		return err
	}
	if m.Protocol != ESPProtocol {
		return fmt.Errorf("%w: party %s was not added through ESP", ErrNotAllowed, id)
	}
	return nil
}
