package chatserver

import (
	"context"
	"errors"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// File transfer: the GMS Chat API v2 file operations of a client party,
// served on the chat server's listener for the web API to proxy to. The
// requester is named by the headers headerUserID and headerSecureKey (never
// by the URL or the form, so that its key stays out of access logs) and
// authenticated as on the customer wire side, and every operation runs on
// the session's queue, so limits are checked and files counted without
// races.

// The headers that name the client party of a file request: a contract
// with the web API (webapi/files.go).
const (
	headerUserID    = "X-Parley-User-Id"
	headerSecureKey = "X-Parley-Secure-Key"
)

const (
	// uploadMargin is what an upload body may hold beyond the file: the
	// multipart framing and the other form fields.
	uploadMargin = 64 << 10
	// maxFieldSize bounds one form field other than the file.
	maxFieldSize = 8 << 10
	// maxNameSize bounds a file name, in bytes, as common file systems do.
	maxNameSize = 255
	// defaultContentType is served for a file of unknown type.
	defaultContentType = "application/octet-stream"
)

// registerFiles adds the file routes to mux. Their paths are a contract
// with the web API.
func (s *Server) registerFiles(mux *http.ServeMux) {
	mux.HandleFunc("POST /chat/{sessionId}/files", s.serveUpload)
	mux.HandleFunc("GET /chat/{sessionId}/files/limits", s.serveFileLimits)
	mux.HandleFunc("GET /chat/{sessionId}/files/{fileId}", s.serveDownload)
	mux.HandleFunc("POST /chat/{sessionId}/files/{fileId}/delete", s.serveDeleteFile)
}

// uploadReply is the body of a successful upload.
type uploadReply struct {
	FileID string `json:"fileId"`
	Status status `json:"status"`
}

// content is a downloaded file.
type content struct {
	transcript.File
	data []byte
}

// upload is a parsed upload form.
type upload struct {
	name, contentType string
	// userData holds the userData[k] fields, file-description included.
	userData map[string]string
	data     []byte
	hasFile  bool
}

// fileError is a refused file request whose HTTP status does not follow
// from its wire code.
type fileError struct {
	status int
	body   *wire.Error
}

func (e *fileError) Error() string { return e.body.Error() }

// errNoSuchFile answers a file id that is not a live file of the session;
// the wire catalogue has no file code, so the HTTP status carries the meaning.
var errNoSuchFile = &fileError{status: http.StatusNotFound, body: wire.Errorf(wire.CodeBadRequest, "no such file")}

func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	if s.filesOff(w) {
		return
	}
	if id := r.PathValue("sessionId"); s.sessions.get(id) == nil { // before reading a body that has nowhere to go
		writeFileError(w, s.notServed(id))
		return
	}
	ft := s.options().ClientFileTransfer
	maxFile := int64(ft.UploadMaxFileSize)
	if r.ContentLength > maxFile+uploadMargin {
		writeFileError(w, tooLarge(maxFile))
		return
	}
	// The party and the session's limits are checked before a byte of
	// the body is read: a stranger's upload costs nothing.
	if _, err := s.fileRequest(r, headerRef(r), func(ctx context.Context, e *entry, _ transcript.Party) (any, error) {
		return nil, s.checkUpload(ctx, e, 0)
	}); err != nil {
		w.Header().Set("Connection", "close") // not worth draining the body
		writeFileError(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFile+uploadMargin)
	up, err := readUpload(r, maxFile)
	if err == nil && !typeAllowed(ft.FileTypes(), up.name) {
		err = wire.Errorf(wire.CodeBadRequest, "the file type of %q is not allowed (upload-file-types %s)", up.name, ft.UploadFileTypes)
	}
	if err != nil {
		writeFileError(w, err)
		return
	}
	s.answer(w, r, headerRef(r), func(ctx context.Context, e *entry, who transcript.Party) (any, error) {
		return s.upload(ctx, e, who, up)
	})
}

func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	if s.filesOff(w) {
		return
	}
	fileID := r.PathValue("fileId")
	v, err := s.fileRequest(r, headerRef(r), func(ctx context.Context, e *entry, _ transcript.Party) (any, error) {
		return s.download(ctx, e, fileID)
	})
	if err != nil {
		writeFileError(w, err)
		return
	}
	c := v.(content)
	h := w.Header()
	h.Set("Content-Type", c.ContentType)
	h.Set("Content-Disposition", attachment(c.Name))
	h.Set("Content-Length", strconv.Itoa(len(c.data)))
	h.Set("X-Content-Type-Options", "nosniff") // the content came from a client: never render it as another type
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "no-store")
	extendWrite(w)
	w.WriteHeader(http.StatusOK)
	w.Write(c.data)
}

func (s *Server) serveDeleteFile(w http.ResponseWriter, r *http.Request) {
	if s.filesOff(w) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, uploadMargin)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeFileError(w, wire.Errorf(wire.CodeTooLarge, "the form is larger than %d bytes", uploadMargin))
		} else {
			writeFileError(w, wire.Errorf(wire.CodeBadRequest, "malformed form body"))
		}
		return
	}
	fileID := r.PathValue("fileId")
	s.answer(w, r, headerRef(r), func(ctx context.Context, e *entry, who transcript.Party) (any, error) {
		return s.deleteFile(ctx, e, who, fileID)
	})
}

func (s *Server) serveFileLimits(w http.ResponseWriter, r *http.Request) {
	if s.filesOff(w) {
		return
	}
	s.answer(w, r, headerRef(r), func(ctx context.Context, e *entry, _ transcript.Party) (any, error) {
		return s.fileLimits(ctx, e)
	})
}

// filesOff answers 503 when the server has no file store.
func (s *Server) filesOff(w http.ResponseWriter) bool {
	if s.cfg.Files != nil {
		return false
	}
	writeFileError(w, wire.Errorf(wire.CodeUnavailable, "file transfer is off on this chat server"))
	return true
}

// headerRef is the requester named by the headers; a userId or secureKey
// in the query or the form is ignored.
func headerRef(r *http.Request) partyRef {
	return partyRef{SessionID: r.PathValue("sessionId"), UserID: r.Header.Get(headerUserID), SecureKey: r.Header.Get(headerSecureKey)}
}

// fileOp is the body of a file request, run on the session's queue once
// the client is authenticated.
type fileOp func(ctx context.Context, e *entry, who transcript.Party) (any, error)

// answer runs op as the client ref names and writes its result as JSON.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ref partyRef, op fileOp) {
	v, err := s.fileRequest(r, ref, op)
	if err != nil {
		writeFileError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// fileRequest queues op on the session ref names, after the client's
// authentication, and waits for its result.
func (s *Server) fileRequest(r *http.Request, ref partyRef, op fileOp) (any, error) {
	e := s.sessions.get(ref.SessionID)
	if e == nil {
		return nil, s.notServed(ref.SessionID)
	}
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1) // buffered: the op never waits for a requester that went away
	ok := s.exec(e, func(ctx context.Context) {
		who, err := s.authenticate(ctx, nil, e, ref, flexSide)
		if err != nil {
			done <- result{err: err}
			return
		}
		e.sess.Touch(s.now(), who.ID)
		v, err := op(ctx, e, who)
		done <- result{v, err}
	})
	if !ok {
		return nil, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down")
	}
	select {
	case res := <-done:
		return res.v, res.err
	case <-r.Context().Done():
		return nil, wire.Errorf(wire.CodeTimeout, "the request was cancelled")
	}
}

// upload stores a file within the session's limits and adds its
// FileUploaded notice from the client.
func (s *Server) upload(ctx context.Context, e *entry, who transcript.Party, up *upload) (uploadReply, error) {
	if err := s.checkUpload(ctx, e, int64(len(up.data))); err != nil {
		return uploadReply{}, err
	}
	f := transcript.File{
		ID: newFileID(), SessionID: e.id, Name: up.name, ContentType: up.contentType,
		Description: up.userData["file-description"], Size: int64(len(up.data)), UploadedBy: who.ID, CreatedAt: s.now(),
	}
	if err := s.fileStore(ctx, e, func(ctx context.Context) error { return s.cfg.Files.PutFile(ctx, f, up.data) }); err != nil {
		return uploadReply{}, err
	}
	st, err := e.sess.FileNotice(s.now(), who.ID, transcript.FileUploaded, fileUserData(f, up.userData))
	if err != nil {
		// No notice, no file: the client was told nothing of it.
		_ = s.fileStore(ctx, e, func(ctx context.Context) error { return s.cfg.Files.DeleteFile(ctx, e.id, f.ID) })
		return uploadReply{}, wireError(err)
	}
	reply, err := s.apply(ctx, e, who, st, nil, firstIndex(st.Events))
	return uploadReply{FileID: f.ID, Status: reply}, err
}

// checkUpload refuses an upload of size bytes that the session's state or
// its [client-file-transfer] limits do not allow.
func (s *Server) checkUpload(ctx context.Context, e *entry, size int64) error {
	ft := s.options().ClientFileTransfer
	if e.sess.Closed() {
		return wire.Errorf(wire.CodeSessionClosed, "the chat session is over")
	}
	if ft.UploadNeedAgent && !agentPresent(e.sess.Present()) {
		return wire.Errorf(wire.CodeNotAllowed, "files may be uploaded only while an agent is in the chat (upload-need-agent)")
	}
	files, err := s.sessionFiles(ctx, e)
	if err != nil {
		return err
	}
	u := usageOf(files)
	if u.files >= ft.UploadMaxFiles {
		return wire.Errorf(wire.CodeNotAllowed, "the session has its %d files (upload-max-files)", ft.UploadMaxFiles)
	}
	if u.bytes+size > int64(ft.UploadMaxTotalSize) {
		return wire.Errorf(wire.CodeNotAllowed, "the session's files would exceed %d bytes (upload-max-total-size)", ft.UploadMaxTotalSize)
	}
	return nil
}

// download returns a live file of the session and its content, counting
// the download, unless download-attempts are spent.
func (s *Server) download(ctx context.Context, e *entry, fileID string) (content, error) {
	f, err := s.liveFile(ctx, e, fileID)
	if err != nil {
		return content{}, err
	}
	if limit := s.options().ClientFileTransfer.DownloadAttempts; limit > 0 && f.Downloads >= limit {
		return content{}, wire.Errorf(wire.CodeNotAllowed, "the file was downloaded %d times (download-attempts)", limit)
	}
	var c content
	err = s.fileStore(ctx, e, func(ctx context.Context) (err error) {
		c.File, c.data, err = s.cfg.Files.File(ctx, e.id, fileID, true)
		return err
	})
	return c, err
}

// deleteFile deletes a file the client uploaded and adds its FileDeleted
// notice.
func (s *Server) deleteFile(ctx context.Context, e *entry, who transcript.Party, fileID string) (status, error) {
	if !s.options().ClientFileTransfer.DeleteFile {
		return status{}, wire.Errorf(wire.CodeNotAllowed, "deleting files is off (delete-file)")
	}
	if e.sess.Closed() {
		return status{}, wire.Errorf(wire.CodeSessionClosed, "the chat session is over")
	}
	f, err := s.liveFile(ctx, e, fileID)
	if err != nil {
		return status{}, err
	}
	if f.UploadedBy != who.ID {
		return status{}, wire.Errorf(wire.CodeNotAllowed, "a client may delete only the files it uploaded")
	}
	if err := s.fileStore(ctx, e, func(ctx context.Context) error { return s.cfg.Files.DeleteFile(ctx, e.id, fileID) }); err != nil {
		return status{}, err
	}
	st, err := e.sess.FileNotice(s.now(), who.ID, transcript.FileDeleted, fileUserData(f, nil))
	return s.apply(ctx, e, who, st, err, firstIndex(st.Events))
}

// fileLimits is the limits reply: the [client-file-transfer] options and
// the session's use of them, as the strings GMS returns. Downloads are
// limited per file; used-download-attempts counts the session's downloads
// in all.
func (s *Server) fileLimits(ctx context.Context, e *entry) (map[string]string, error) {
	files, err := s.sessionFiles(ctx, e)
	if err != nil {
		return nil, err
	}
	ft, u := s.options().ClientFileTransfer, usageOf(files)
	return map[string]string{
		"download-attempts":          strconv.Itoa(ft.DownloadAttempts),
		"upload-max-files":           strconv.Itoa(ft.UploadMaxFiles),
		"upload-max-file-size":       strconv.Itoa(ft.UploadMaxFileSize),
		"upload-max-total-size":      strconv.Itoa(ft.UploadMaxTotalSize),
		"upload-need-agent":          strconv.FormatBool(ft.UploadNeedAgent),
		"upload-file-types":          ft.UploadFileTypes,
		"used-upload-max-files":      strconv.Itoa(u.files),
		"used-upload-max-total-size": strconv.FormatInt(u.bytes, 10),
		"used-download-attempts":     strconv.Itoa(u.downloads),
		"delete-file":                strconv.FormatBool(ft.DeleteFile),
	}, nil
}

// usage is what a session's live files take of its limits.
type usage struct {
	files     int
	bytes     int64
	downloads int
}

// usageOf counts the live files only, so that a client may replace a file
// it deleted.
func usageOf(files []transcript.File) usage {
	var u usage
	for _, f := range files {
		if !f.Deleted {
			u.files++
			u.bytes += f.Size
			u.downloads += f.Downloads
		}
	}
	return u
}

// liveFile returns a file of the session that is not deleted.
func (s *Server) liveFile(ctx context.Context, e *entry, fileID string) (transcript.File, error) {
	files, err := s.sessionFiles(ctx, e)
	if err != nil {
		return transcript.File{}, err
	}
	i := slices.IndexFunc(files, func(f transcript.File) bool { return f.ID == fileID && !f.Deleted })
	if i < 0 {
		return transcript.File{}, errNoSuchFile
	}
	return files[i], nil
}

func (s *Server) sessionFiles(ctx context.Context, e *entry) ([]transcript.File, error) {
	var files []transcript.File
	err := s.fileStore(ctx, e, func(ctx context.Context) (err error) {
		files, err = s.cfg.Files.SessionFiles(ctx, e.id)
		return err
	})
	return files, err
}

// fileStore runs one file store call within storeTimeout. A file that
// vanished is errNoSuchFile; any other failure is logged and reported as
// CodeStoreFailed, saying nothing of its cause.
func (s *Server) fileStore(ctx context.Context, e *entry, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	err := call(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, transcript.ErrNotFound):
		return errNoSuchFile
	}
	s.log.Error("file store failed", "session", e.id, "err", err)
	return wire.Errorf(wire.CodeStoreFailed, "the file store is unavailable")
}

// fileUserData is the userData of a FileUploaded or FileDeleted notice:
// the client's userData fields with the file's own keys over them.
func fileUserData(f transcript.File, extra map[string]string) map[string]string {
	ud := make(map[string]string, len(extra)+5)
	maps.Copy(ud, extra)
	ud["file-id"] = f.ID
	ud["file-name"] = f.Name
	ud["file-size"] = strconv.FormatInt(f.Size, 10)
	ud["file-type"] = f.ContentType
	ud["file-description"] = f.Description
	return ud
}

func agentPresent(parties []transcript.Party) bool {
	return slices.ContainsFunc(parties, func(p transcript.Party) bool { return p.Type == transcript.Agent })
}

// firstIndex is the transcript position of the first event, 0 for none.
func firstIndex(events []transcript.Event) int {
	if len(events) == 0 {
		return 0
	}
	return events[0].Index
}

// newFileID returns a file id: 16 random hex characters.
func newFileID() string { return randomHex(8) }

// writeFileError answers a refused file request with its wire error as JSON.
func writeFileError(w http.ResponseWriter, err error) {
	if fe, ok := errors.AsType[*fileError](err); ok {
		writeJSON(w, fe.status, fe.body)
		return
	}
	we := wire.AsError(err)
	writeJSON(w, httpStatus(we.Code), we)
}

// httpStatus is the HTTP status of a refusal with code c.
func httpStatus(c wire.Code) int {
	switch c {
	case wire.CodeMalformed, wire.CodeBadRequest:
		return http.StatusBadRequest
	case wire.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case wire.CodeNotAllowed, wire.CodeNoSuchUser, wire.CodeLoggedOut, wire.CodeBadSecureKey, wire.CodeSessionClosed:
		return http.StatusForbidden
	case wire.CodeNoSuchSession:
		return http.StatusNotFound
	case wire.CodeUnavailable, wire.CodeShuttingDown, wire.CodeTimeout, wire.CodeStaleOwner, wire.CodeStoreFailed:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// attachment is the Content-Disposition of a download; FormatMediaType
// quotes the name, and encodes it (RFC 2231) when it is not ASCII.
func attachment(name string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

// typeAllowed reports whether the file name's extension is in types (nil:
// any file).
func typeAllowed(types []string, name string) bool {
	if types == nil {
		return true
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	return ext != "" && slices.Contains(types, ext)
}

func tooLarge(maxFile int64) error {
	return wire.Errorf(wire.CodeTooLarge, "the file is larger than %d bytes (upload-max-file-size)", maxFile)
}

// readUpload parses the multipart upload form of r.
func readUpload(r *http.Request, maxFile int64) (*upload, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, wire.Errorf(wire.CodeBadRequest, "the upload must be multipart/form-data")
	}
	return parseUpload(mr, maxFile)
}

// parseUpload reads the parts of an upload form: file (required, at most
// maxFile bytes) and userData[k]. Other fields are ignored, as GMS ignores
// them; so are userId and secureKey, which the headers carry.
func parseUpload(mr *multipart.Reader, maxFile int64) (*upload, error) {
	up := &upload{userData: make(map[string]string)}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, readError(err, maxFile)
		}
		err = up.add(p, maxFile)
		p.Close()
		if err != nil {
			return nil, err
		}
	}
	if !up.hasFile {
		return nil, wire.Errorf(wire.CodeBadRequest, "the upload has no file field")
	}
	return up, nil
}

// add reads one part into up.
func (up *upload) add(p *multipart.Part, maxFile int64) error {
	name := p.FormName()
	if name == "file" {
		return up.readFile(p, maxFile)
	}
	key, isData := strings.CutPrefix(name, "userData[")
	key, closed := strings.CutSuffix(key, "]")
	if !isData || !closed || key == "" {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(p, maxFieldSize+1))
	if err != nil {
		return readError(err, maxFile)
	}
	if len(b) > maxFieldSize {
		return wire.Errorf(wire.CodeBadRequest, "the field %s is longer than %d bytes", name, maxFieldSize)
	}
	up.userData[key] = string(b)
	return nil
}

// readFile reads the file part, refusing one larger than maxFile without
// reading more of it.
func (up *upload) readFile(p *multipart.Part, maxFile int64) error {
	if up.hasFile {
		return wire.Errorf(wire.CodeBadRequest, "one file per upload")
	}
	name, err := fileName(p.FileName())
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(p, maxFile+1))
	if err != nil {
		return readError(err, maxFile)
	}
	if int64(len(data)) > maxFile {
		return tooLarge(maxFile)
	}
	up.name, up.data, up.hasFile = name, data, true
	up.contentType = contentType(p.Header.Get("Content-Type"), name)
	return nil
}

// fileName checks the name a client gave its file, keeping only its last
// path element (a browser may send a Windows path).
func fileName(name string) (string, error) {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	switch {
	case name == "" || name == "." || name == "..":
		return "", wire.Errorf(wire.CodeBadRequest, "the file has no name")
	case len(name) > maxNameSize:
		return "", wire.Errorf(wire.CodeBadRequest, "the file name is longer than %d bytes", maxNameSize)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", wire.Errorf(wire.CodeBadRequest, "the file name is not printable UTF-8")
	}
	return name, nil
}

// contentType is the part's media type when it names one, else the type
// of the name's extension.
func contentType(header, name string) string {
	if mt, params, err := mime.ParseMediaType(header); err == nil && mt != defaultContentType {
		if v := mime.FormatMediaType(mt, params); v != "" {
			return v
		}
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return defaultContentType
}

// readError maps a failure reading the body: past the size bound it is
// too large, anything else is malformed.
func readError(err error, maxFile int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(maxFile)
	}
	return wire.Errorf(wire.CodeBadRequest, "malformed multipart body")
}
