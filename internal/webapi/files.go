package webapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// maxUploadBytes bounds an upload's body: the largest upload-max-file-size a
// chat server allows and the form around it. The chat server's own, smaller
// limit is checked before a byte of the file is read.
const maxUploadBytes = 1<<30 + 1<<20

// The headers that name the client party of a request to a chat server's
// file endpoints: a contract with the chat server (chatserver/files.go).
const (
	headerUserID    = "X-Parley-User-Id"
	headerSecureKey = "X-Parley-Secure-Key"
)

// maxFileReply bounds a JSON reply of a chat server's file endpoints.
const maxFileReply = 1 << 20

// File operations proxy to the chat server that owns the chat, over its
// HTTP file endpoints, each request naming the client party in the headers
// headerUserID and headerSecureKey (never in the URL, which access logs
// keep):
//
//	GET  /chat/{sessionId}/files/limits            -> JSON object of the limit keys
//	POST /chat/{sessionId}/files (multipart: file, userData[...])
//	                                               -> {"fileId":..., "status": EventStatus body}
//	GET  /chat/{sessionId}/files/{fileId}          -> the bytes
//	POST /chat/{sessionId}/files/{fileId}/delete   -> EventStatus body
//
// Their errors are HTTP 4xx with a JSON wire error {"code":..., "text":...}.

// fileOperation returns the operation on file fileId called name.
func (s *Server) fileOperation(name string) op {
	switch name {
	case "download":
		return op{name: "fileDownload", h: s.fileDownload, limit: maxFormBytes, stream: true}
	case "delete":
		return op{name: "fileDelete", h: s.fileDelete, limit: maxFormBytes}
	}
	return op{name: "unknown", h: unknownOperation, limit: maxFormBytes}
}

// fileURL is the chat server URL of a chat's files.
func fileURL(cs *chatServer, ref partyRef, rest string) string {
	return cs.ep.URL("http", "/chat/"+url.PathEscape(ref.SessionID)+"/files"+rest)
}

// fileID reads and checks the {fileId} path segment, or the fileId field
// of chat-ntf.
func fileID(q *request) (string, error) {
	id := q.r.PathValue("fileId")
	if id == "" {
		id = q.form.get("fileId")
	}
	if id == "" || len(id) > maxIDLen {
		return "", wire.Errorf(wire.CodeBadRequest, "bad fileId")
	}
	return "/" + url.PathEscape(id), nil
}

// fileLimits answers with the limits as messages[0], a Notice
// "file-client-cfg-get" whose userData holds them (public-api-notes §1.5).
func (s *Server) fileLimits(ctx context.Context, q *request) (*envelope, error) {
	cs, err := s.fileOwner(ctx, q)
	if err != nil {
		return nil, err
	}
	var limits map[string]any
	if err := s.fileCall(ctx, http.MethodGet, q.ref, fileURL(cs, q.ref, "/limits"), "", nil, &limits); err != nil {
		return nil, err
	}
	ud := make(map[string]string, len(limits))
	for k, v := range limits {
		ud[k] = strings.Trim(fmt.Sprint(v), `"`)
	}
	msg := transcript.APIMessage{Type: transcript.Notice, Text: "file-client-cfg-get", UserData: ud,
		UTCTime: time.Now().UnixMilli(), Visibility: transcript.VisAll}
	return &envelope{Alias: cs.name, ChatID: q.ref.SessionID, UserID: q.ref.UserID, Messages: []transcript.APIMessage{msg}}, nil
}

// fileUpload streams the uploaded file to the chat server; the reply's
// userData carries its file-id. Nothing of the file is read before the chat
// server has authenticated the party (the limits call) and the declared
// size fits its upload-max-file-size; then the file goes straight from the
// client's body to the chat server, never through a spool here, so a
// client that aborts leaves nothing behind.
func (s *Server) fileUpload(ctx context.Context, q *request) (*envelope, error) {
	if q.file == nil {
		return nil, wire.Errorf(wire.CodeBadRequest, "one multipart file field named file is required, after userId, secureKey and alias")
	}
	cs, err := s.fileOwner(ctx, q)
	if err != nil {
		return nil, err
	}
	maxFile, err := s.uploadMax(ctx, cs, q.ref)
	if err != nil {
		return nil, err
	}
	if q.r.ContentLength > maxFile+uploadMargin {
		s.metrics.refuse(refusedUploadSize)
		return nil, wire.Errorf(wire.CodeTooLarge, "the file is larger than %d bytes (upload-max-file-size)", maxFile)
	}
	s.uploads.Add(1)
	defer s.uploads.Add(-1)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(writeUpload(mw, q, io.LimitReader(q.file, maxFile+1)))
	}()
	var reply struct {
		FileID string `json:"fileId"`
		Status status `json:"status"`
	}
	err = s.fileCall(ctx, http.MethodPost, q.ref, fileURL(cs, q.ref, ""), mw.FormDataContentType(), pr, &reply)
	pr.Close() // ends the writer if the chat server stopped reading
	<-done
	if err != nil {
		return nil, err
	}
	env := okEnvelope(reply.Status)
	env.UserData = map[string]string{"file-id": reply.FileID}
	return &env, nil
}

// uploadMargin is what an upload body may hold beyond its file: the
// multipart framing and the fields around it.
const uploadMargin = maxFormBytes + 4<<10

// uploadMax asks the chat server for the party's limits, which
// authenticates the party, and returns its upload-max-file-size.
func (s *Server) uploadMax(ctx context.Context, cs *chatServer, ref partyRef) (int64, error) {
	var limits map[string]any
	if err := s.fileCall(ctx, http.MethodGet, ref, fileURL(cs, ref, "/limits"), "", nil, &limits); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.Trim(fmt.Sprint(limits["upload-max-file-size"]), `"`), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("webapi: chat server %s gave no upload-max-file-size", cs.name)
	}
	return n, nil
}

// writeUpload writes the upload form for the chat server: the userData
// fields and the file.
func writeUpload(mw *multipart.Writer, q *request, file io.Reader) error {
	for k, v := range q.form.userData {
		if err := mw.WriteField("userData["+k+"]", v); err != nil {
			return err
		}
	}
	part, err := mw.CreateFormFile("file", q.file.FileName())
	if err == nil {
		_, err = io.Copy(part, file)
	}
	if err != nil {
		return err
	}
	return mw.Close()
}

// fileDownload streams the file's bytes with the chat server's headers.
func (s *Server) fileDownload(ctx context.Context, q *request) (*envelope, error) {
	cs, err := s.fileOwner(ctx, q)
	if err != nil {
		return nil, err
	}
	id, err := fileID(q)
	if err != nil {
		return nil, err
	}
	resp, err := s.fileRequest(ctx, http.MethodGet, q.ref, fileURL(cs, q.ref, id), "", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	h := q.w.Header()
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Length"} {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	setDownloadHeaders(h)
	if dl, ok := ctx.Deadline(); ok { // a download outlives http-write-timeout, as the request does
		_ = http.NewResponseController(q.w).SetWriteDeadline(dl)
	}
	q.w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(q.w, resp.Body); err != nil {
		s.log.Debug("file download cut", "session", q.ref.SessionID, "err", err)
	}
	return nil, nil
}

func (s *Server) fileDelete(ctx context.Context, q *request) (*envelope, error) {
	cs, err := s.fileOwner(ctx, q)
	if err != nil {
		return nil, err
	}
	id, err := fileID(q)
	if err != nil {
		return nil, err
	}
	var st status
	err = s.fileCall(ctx, http.MethodPost, q.ref, fileURL(cs, q.ref, id+"/delete"), "", nil, &st)
	if err != nil {
		return nil, err
	}
	env := okEnvelope(st)
	return &env, nil
}

// fileOwner is the chat server of the chat, reachable (restored elsewhere
// if its owner is gone).
func (s *Server) fileOwner(ctx context.Context, q *request) (*chatServer, error) {
	cs, _, err := s.locate(ctx, q)
	return cs, err
}

// setDownloadHeaders makes a browser save a downloaded file, whatever the
// chat server said: a client uploaded it, so it must never be rendered as
// a page of the web API's origin (nor sniffed into one).
func setDownloadHeaders(h http.Header) {
	if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		h.Set("Content-Disposition", "attachment")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "no-store")
}

// fileCall makes one request to a chat server's file endpoints and decodes
// its JSON reply into v.
func (s *Server) fileCall(ctx context.Context, method string, ref partyRef, u, ctype string, body io.Reader, v any) error {
	resp, err := s.fileRequest(ctx, method, ref, u, ctype, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFileReply)).Decode(v); err != nil {
		return fmt.Errorf("webapi: file reply of chat server: %w", err)
	}
	return nil
}

// fileRequest makes one request to a chat server's file endpoints as the
// client ref names. A reply other than 200 becomes the wire error it
// carries.
func (s *Server) fileRequest(ctx context.Context, method string, ref partyRef, u, ctype string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("webapi: file request: %w", err)
	}
	req.Header.Set(headerUserID, ref.UserID)
	req.Header.Set(headerSecureKey, ref.SecureKey)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := s.pool.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnreachable, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	we := &wire.Error{}
	if json.NewDecoder(io.LimitReader(resp.Body, maxFileReply)).Decode(we) != nil || we.Code == 0 {
		we = wire.Errorf(wire.CodeInternal, "")
		if resp.StatusCode == http.StatusNotFound {
			we = wire.Errorf(wire.CodeUnavailable, "file transfer is not available on this chat server")
		}
	}
	return nil, we
}
