package chatserver

import (
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// TestEveryOptionIsLiveOrRestartOnly: each [settings] option is either
// copied by setLive or reported by restartOnly, so a new option cannot be
// silently ignored by a reload; a new section must be decided on here.
func TestEveryOptionIsLiveOrRestartOnly(t *testing.T) {
	if n := reflect.TypeFor[config.ChatServerOptions]().NumField(); n != 4 { // [limits] is live: Reconfigure copies it whole
		t.Fatalf("ChatServerOptions has %d sections: decide whether the new one may change at run time (Reconfigure)", n)
	}
	a := config.DefaultChatServerOptions().Settings
	typ := reflect.TypeFor[config.Settings]()
	for i := range typ.NumField() {
		b := a
		f := reflect.ValueOf(&b).Elem().Field(i)
		switch v := f.Interface().(type) {
		case string:
			f.SetString(v + "x")
		case int:
			f.SetInt(int64(v) + 1)
		case bool:
			f.SetBool(!v)
		case time.Duration:
			f.SetInt(int64(v + time.Second))
		default:
			t.Fatalf("field %s of type %T: extend this test", typ.Field(i).Name, v)
		}
		merged := a
		setLive(&merged, b)
		live, restart := merged == b, restartOnly(a, b)
		if live == (len(restart) == 1) {
			t.Errorf("%s: copied live = %v, reported as restart-only = %q; want exactly one", typ.Field(i).Name, live, restart)
		}
	}
}
