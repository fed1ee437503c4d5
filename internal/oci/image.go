package oci

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are in the image, and who runs it.
const (
	BinaryPath  = "/usr/bin/parley"
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	DataDir     = "/data"
	ConfigDir   = "/etc/parley" // where a deployment file is mounted
	UID         = 65532         // the user parley, as distroless images number their non-root user
	UserName    = "parley"
	License     = "Apache-2.0"
	Source      = "https://github.com/parley-chat/parley"
)

// Spec is what goes into the image.
type Spec struct {
	Binary   []byte    // the static parley executable
	Arch     string    // its GOARCH: amd64, arm64
	CACerts  []byte    // PEM bundle installed at CACertsPath
	Version  string    // label org.opencontainers.image.version
	Revision string    // label org.opencontainers.image.revision (the commit)
	Created  time.Time // the image's creation time and every file's mtime
}

// Build returns the image spec describes. Nothing in it depends on when or
// where it is built, only on spec.
func Build(spec Spec) (v1.Image, error) {
	rootfs, err := rootFS(spec)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("oci: layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer,
		History: v1.History{Created: v1.Time{Time: spec.Created}, CreatedBy: "parley image", Comment: "parley " + spec.Version}})
	if err != nil {
		return nil, fmt.Errorf("oci: append the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("oci: config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", spec.Arch, v1.Time{Time: spec.Created}
	cf.Author = "parley"
	cf.Config = runConfig(spec)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("oci: config: %w", err)
	}
	return img, nil
}

// Labels returns the image's labels, after the OCI annotation names.
func Labels(spec Spec) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "parley",
		"org.opencontainers.image.description": "High-availability contact-center chat (GMS Chat API v2)",
		"org.opencontainers.image.version":     spec.Version,
		"org.opencontainers.image.revision":    spec.Revision,
		"org.opencontainers.image.created":     spec.Created.UTC().Format(time.RFC3339),
		"org.opencontainers.image.licenses":    License,
		"org.opencontainers.image.source":      Source,
	}
}

// runConfig is how a container of the image runs: as parley, in /data,
// logging JSON lines, stopped by SIGTERM (run's graceful stop). The
// command is the caller's (parley run --config ... --app NAME); alone,
// the image prints run's usage.
func runConfig(spec Spec) v1.Config {
	return v1.Config{
		User:       fmt.Sprintf("%d:%d", UID, UID),
		Entrypoint: []string{BinaryPath},
		Cmd:        []string{"help", "run"},
		WorkingDir: DataDir,
		Env:        []string{"PARLEY_LOG_FORMAT=json", "SSL_CERT_FILE=" + CACertsPath},
		Volumes:    map[string]struct{}{DataDir: {}},
		Labels:     Labels(spec),
		StopSignal: "SIGTERM",
	}
}

// rootFS returns the layer's tar: every entry owned by root but /data,
// dated spec.Created, in a fixed order.
func rootFS(spec Spec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, UID, UserName, DataDir)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, UID)
	for _, e := range []struct {
		name     string
		mode     int64
		uid      int
		contents []byte // nil: a directory
	}{
		{"data/", 0o750, UID, nil},
		{"etc/", 0o755, 0, nil},
		{"etc/group", 0o644, 0, []byte(group)},
		{"etc/parley/", 0o755, 0, nil},
		{"etc/passwd", 0o644, 0, []byte(passwd)},
		{"etc/ssl/", 0o755, 0, nil},
		{"etc/ssl/certs/", 0o755, 0, nil},
		{path.Clean(CACertsPath)[1:], 0o644, 0, spec.CACerts},
		{"tmp/", 0o1777, 0, nil},
		{"usr/", 0o755, 0, nil},
		{"usr/bin/", 0o755, 0, nil},
		{BinaryPath[1:], 0o755, 0, spec.Binary},
	} {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: spec.Created,
			Typeflag: tar.TypeDir, Format: tar.FormatPAX}
		if e.contents != nil {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.contents))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("oci: layer %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.contents); err != nil {
			return nil, fmt.Errorf("oci: layer %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("oci: layer: %w", err)
	}
	return buf.Bytes(), nil
}
