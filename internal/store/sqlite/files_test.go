package sqlite

import (
	"testing"

	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
)

func TestFileStore(t *testing.T) {
	storetest.TestFileStore(t, func(t *testing.T) transcript.FileStore {
		return openDB(t, tempPath(t)).Files()
	})
}

// TestFilesSurviveReopen checks that files, deleted marks and download counts
// are durable, as a chat server restoring a session needs them.
func TestFilesSurviveReopen(t *testing.T) {
	ctx, path := t.Context(), tempPath(t)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fs := db.Files()
	kept := transcript.File{ID: "f-1", SessionID: "s-1", Name: "a.txt", Size: 2}
	gone := transcript.File{ID: "f-2", SessionID: "s-1", Name: "b.txt", Size: 2}
	for _, f := range []transcript.File{kept, gone} {
		if err := fs.PutFile(ctx, f, []byte("hi")); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := fs.File(ctx, "s-1", "f-1", true); err != nil {
		t.Fatal(err)
	}
	if err := fs.DeleteFile(ctx, "s-1", "f-2"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	list, err := openDB(t, path).Files().SessionFiles(ctx, "s-1")
	if err != nil || len(list) != 2 || list[0].Downloads != 1 || !list[1].Deleted {
		t.Fatalf("after reopen: %+v, %v", list, err)
	}
}
