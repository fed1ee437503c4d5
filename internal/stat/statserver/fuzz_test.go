package statserver

import (
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/wire"
)

// FuzzOpenStatistic feeds arbitrary bodies to the open path of
// RequestOpenStatistic(Ex): it never panics, every refusal carries a
// documented code (docs/stat.md), and what opens has a value.
func FuzzOpenStatistic(f *testing.F) {
	f.Add([]byte(`{"referenceId":1,"object":{"objectId":"chat","objectType":"Queue"},"statisticType":"ChatsInQueue"}`))
	f.Add([]byte(`{"referenceId":2,"object":{"objectId":"chat","objectType":"Queue"},"metric":{"category":"TotalNumber","mainMask":"*,~Call*","intervalType":"SlidingWindow","timeProfile":"600:60"}}`))
	f.Add([]byte(`{"referenceId":3,"object":{"objectId":"Environment","objectType":"Tenant","tenantName":"x"},"statisticType":"ServiceLevel","timeRange":"ServiceLevel"}`))
	f.Add([]byte(`{"referenceId":4,"object":{"objectId":"alice","objectType":"Agent"},"metric":{"category":"ServiceFactor1","mainMask":"CallDistributed","relativeMask":"~","subject":"AgentStatus"}}`))
	opts := config.DefaultStatServerOptions()
	sc, errs := opts.Definitions([]string{"alice", "bob"}, []string{"chat"})
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	s, err := New(Config{Name: "stat-1", Options: opts, Stat: sc})
	if err != nil {
		f.Fatal(err)
	}
	codes := []wire.Code{wire.CodeNoSuchObject, wire.CodeNoSuchStatType, wire.CodeInvalidStatistic, wire.CodeTooManyStatistics}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req openRequest
		if err := (wire.Message{Name: wire.RequestOpenStatisticEx, Body: body}).Bind(&req); err != nil {
			if code(err) != wire.CodeBadRequest {
				t.Fatalf("Bind: %v", err)
			}
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		def, err := s.definition(req)
		if err == nil {
			def, err = s.engine.Open(def, s.now())
		}
		if err != nil {
			if c := errorCode(err).Code; !slices.Contains(codes, c) {
				t.Fatalf("refused with code %d: %v", c, err)
			}
			return
		}
		if _, err := s.engine.Value(def, s.now()); err != nil {
			t.Fatalf("opened %+v has no value: %v", def, err)
		}
		_ = s.engine.Close(def)
	})
}
