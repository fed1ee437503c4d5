package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestFileStore runs the transcript.FileStore conformance suite. open must
// return a fresh store that stays usable until the test ends; subtests run in
// parallel, each on its own store.
func TestFileStore(t *testing.T, open func(t *testing.T) transcript.FileStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s transcript.FileStore)
	}{
		{"PutGet", testPutGet},
		{"DuplicateID", testDuplicateFileID},
		{"DownloadCounting", testDownloadCounting},
		{"ConcurrentDownloads", testConcurrentDownloads},
		{"DeleteFile", testDeleteFile},
		{"OtherSession", testOtherSessionFile},
		{"Unknown", testUnknownFile},
		{"SessionFiles", testSessionFiles},
		{"DeleteSessionFiles", testDeleteSessionFiles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// newFile returns a file of session sessionID created at ms(created).
func newFile(sessionID string, created int64, size int) transcript.File {
	return transcript.File{
		ID: NewID("f"), SessionID: sessionID, Name: "invoice é.pdf", ContentType: "application/pdf",
		Description: "the invoice", Size: int64(size), UploadedBy: "u-1", CreatedAt: ms(created),
	}
}

// content returns n bytes covering every byte value, NUL included.
func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func mustPut(t *testing.T, s transcript.FileStore, f transcript.File, data []byte) {
	t.Helper()
	if err := s.PutFile(t.Context(), f, data); err != nil {
		t.Fatalf("PutFile %s: %v", f.ID, err)
	}
}

// mustGet returns a file, checking its content is want.
func mustGet(t *testing.T, s transcript.FileStore, f transcript.File, download bool, want []byte) transcript.File {
	t.Helper()
	got, data, err := s.File(t.Context(), f.SessionID, f.ID, download)
	if err != nil {
		t.Fatalf("File %s: %v", f.ID, err)
	}
	if !bytes.Equal(data, want) || data == nil {
		t.Fatalf("File %s: content of %d bytes (nil %v), want %d bytes", f.ID, len(data), data == nil, len(want))
	}
	return got
}

func testPutGet(t *testing.T, s transcript.FileStore) {
	for _, size := range []int{0, 1, 70_000} {
		f := newFile(NewID("s"), 0, size)
		mustPut(t, s, f, content(size))
		if got := mustGet(t, s, f, false, content(size)); !reflect.DeepEqual(got, f) {
			t.Errorf("File:\n got %+v\nwant %+v", got, f)
		}
	}
}

func testDuplicateFileID(t *testing.T, s transcript.FileStore) {
	f := newFile(NewID("s"), 0, 3)
	mustPut(t, s, f, []byte("abc"))
	other := f
	other.Name, other.SessionID = "other.txt", NewID("s")
	if err := s.PutFile(t.Context(), other, []byte("xyz")); !errors.Is(err, transcript.ErrExists) {
		t.Fatalf("PutFile with a taken id: got %v, want ErrExists", err)
	}
	if got := mustGet(t, s, f, false, []byte("abc")); got.Name != f.Name {
		t.Errorf("the first file was replaced: %+v", got)
	}
}

func testDownloadCounting(t *testing.T, s transcript.FileStore) {
	f := newFile(NewID("s"), 0, 4)
	mustPut(t, s, f, []byte("data"))
	for _, step := range []struct {
		download bool
		want     int
	}{{true, 1}, {false, 1}, {true, 2}, {true, 3}, {false, 3}} {
		if got := mustGet(t, s, f, step.download, []byte("data")); got.Downloads != step.want {
			t.Fatalf("File(download=%v): Downloads = %d, want %d", step.download, got.Downloads, step.want)
		}
	}
}

// testConcurrentDownloads checks that no download is lost when many count at once.
func testConcurrentDownloads(t *testing.T, s transcript.FileStore) {
	f := newFile(NewID("s"), 0, 1)
	mustPut(t, s, f, []byte("x"))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, _, err := s.File(t.Context(), f.SessionID, f.ID, true)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := mustGet(t, s, f, false, []byte("x")); got.Downloads != n {
		t.Errorf("Downloads = %d after %d concurrent downloads", got.Downloads, n)
	}
}

func testDeleteFile(t *testing.T, s transcript.FileStore) {
	ctx := t.Context()
	f := newFile(NewID("s"), 0, 5)
	mustPut(t, s, f, []byte("hello"))
	mustGet(t, s, f, true, []byte("hello"))
	if err := s.DeleteFile(ctx, f.SessionID, f.ID); err != nil {
		t.Fatal(err)
	}
	for _, download := range []bool{false, true} {
		if _, _, err := s.File(ctx, f.SessionID, f.ID, download); !errors.Is(err, transcript.ErrNotFound) {
			t.Errorf("File(download=%v) after delete: got %v, want ErrNotFound", download, err)
		}
	}
	if err := s.DeleteFile(ctx, f.SessionID, f.ID); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("second DeleteFile: got %v, want ErrNotFound", err)
	}
	list, err := s.SessionFiles(ctx, f.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	want := f
	want.Deleted, want.Downloads = true, 1
	if len(list) != 1 || !reflect.DeepEqual(list[0], want) {
		t.Errorf("SessionFiles after delete = %+v, want [%+v]", list, want)
	}
}

// testOtherSessionFile checks that a file id never reaches another session's file.
func testOtherSessionFile(t *testing.T, s transcript.FileStore) {
	ctx := t.Context()
	f := newFile(NewID("s"), 0, 6)
	mustPut(t, s, f, []byte("secret"))
	other := NewID("s")
	for _, download := range []bool{false, true} {
		if _, data, err := s.File(ctx, other, f.ID, download); !errors.Is(err, transcript.ErrNotFound) || data != nil {
			t.Errorf("File of another session (download=%v): %d bytes, %v; want ErrNotFound", download, len(data), err)
		}
	}
	if err := s.DeleteFile(ctx, other, f.ID); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("DeleteFile of another session: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteSessionFiles(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, f, false, []byte("secret")); got.Downloads != 0 || got.Deleted {
		t.Errorf("the file changed through another session: %+v", got)
	}
}

func testUnknownFile(t *testing.T, s transcript.FileStore) {
	ctx, sess := t.Context(), NewID("s")
	if _, _, err := s.File(ctx, sess, "0123456789abcdef", true); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("File unknown: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteFile(ctx, sess, "0123456789abcdef"); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("DeleteFile unknown: got %v, want ErrNotFound", err)
	}
	if list, err := s.SessionFiles(ctx, sess); err != nil || len(list) != 0 {
		t.Errorf("SessionFiles of an unknown session = %v, %v; want none", list, err)
	}
	if err := s.DeleteSessionFiles(ctx, sess); err != nil {
		t.Errorf("DeleteSessionFiles of an unknown session: %v", err)
	}
}

func testSessionFiles(t *testing.T, s transcript.FileStore) {
	sess := NewID("s")
	late, early, same := newFile(sess, 2000, 1), newFile(sess, 1000, 2), newFile(sess, 2000, 3)
	for _, f := range []transcript.File{late, early, same} { // not in time order
		mustPut(t, s, f, content(int(f.Size)))
	}
	mustPut(t, s, newFile(NewID("s"), 0, 1), []byte("x")) // another session's
	list, err := s.SessionFiles(t.Context(), sess)
	if err != nil {
		t.Fatal(err)
	}
	want := []transcript.File{early, late, same} // same time: upload order
	if !reflect.DeepEqual(list, want) {
		t.Errorf("SessionFiles:\n got %+v\nwant %+v", list, want)
	}
}

func testDeleteSessionFiles(t *testing.T, s transcript.FileStore) {
	ctx, sess := t.Context(), NewID("s")
	a, b := newFile(sess, 0, 1), newFile(sess, 1, 1)
	kept := newFile(NewID("s"), 0, 1)
	for _, f := range []transcript.File{a, b, kept} {
		mustPut(t, s, f, []byte("x"))
	}
	if err := s.DeleteFile(ctx, sess, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSessionFiles(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if list, err := s.SessionFiles(ctx, sess); err != nil || len(list) != 0 {
		t.Errorf("SessionFiles after DeleteSessionFiles = %+v, %v; want none", list, err)
	}
	if _, _, err := s.File(ctx, sess, a.ID, false); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("File after DeleteSessionFiles: got %v, want ErrNotFound", err)
	}
	mustGet(t, s, kept, false, []byte("x"))
	// The ids are free again: a restored session may re-upload under them.
	mustPut(t, s, a, []byte("y"))
}
