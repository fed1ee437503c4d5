package oci

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var testSpec = Spec{
	Binary:   []byte("\x7fELF not really a binary"),
	Arch:     "amd64",
	CACerts:  []byte("-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"),
	Version:  "v1.2.3",
	Revision: "0123456789abcdef0123456789abcdef01234567",
	Created:  time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC),
}

// archive builds spec's image archive.
func archive(t *testing.T, spec Spec) []byte {
	t.Helper()
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteArchive(&buf, img, "parley:"+spec.Version, spec.Created); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestArchiveReproducible checks that two builds of one spec give the same
// bytes, and that any change of input changes them.
func TestArchiveReproducible(t *testing.T) {
	a, b := archive(t, testSpec), archive(t, testSpec)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of one spec differ")
	}
	other := testSpec
	other.Revision = "fedcba9876543210fedcba9876543210fedcba98"
	if bytes.Equal(a, archive(t, other)) {
		t.Error("a new revision gave the same archive")
	}
}

// TestArchiveLayout reads the archive back as an OCI image layout, with
// go-containerregistry's reader, and checks the image: one layer, its
// files and owners, the user, entrypoint, working directory and labels.
func TestArchiveLayout(t *testing.T) {
	dir := t.TempDir()
	untar(t, archive(t, testSpec), dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("index: %v, %+v", err, im)
	}
	desc := im.Manifests[0]
	if desc.MediaType != types.OCIManifestSchema1 || desc.Annotations[RefNameAnnotation] != "parley:v1.2.3" {
		t.Errorf("index entry %+v", desc)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("invalid image: %v", err)
	}
	checkConfig(t, img)
	checkLayer(t, img)
}

func checkConfig(t *testing.T, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Time.Equal(testSpec.Created) {
		t.Errorf("platform %s/%s created %v", cf.OS, cf.Architecture, cf.Created)
	}
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/usr/bin/parley"}) || c.WorkingDir != "/data" ||
		c.StopSignal != "SIGTERM" || !slices.Contains(c.Env, "PARLEY_LOG_FORMAT=json") {
		t.Errorf("config %+v", c)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("volumes %v", c.Volumes)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": testSpec.Revision,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.created":  "2026-12-07T18:00:00Z",
	} {
		if c.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], want)
		}
	}
}

func checkLayer(t *testing.T, img v1.Image) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %v, %d", err, len(layers))
	}
	if mt, _ := layers[0].MediaType(); mt != types.OCILayer {
		t.Errorf("layer media type %s", mt)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	contents := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		contents[h.Name], _ = io.ReadAll(tr)
	}
	for name, want := range map[string]struct {
		mode int64
		uid  int
		data []byte
	}{
		"usr/bin/parley":                    {0o755, 0, testSpec.Binary},
		"etc/ssl/certs/ca-certificates.crt": {0o644, 0, testSpec.CACerts},
		"etc/passwd":                        {0o644, 0, []byte("root:x:0:0:root:/root:/sbin/nologin\nparley:x:65532:65532:parley:/data:/sbin/nologin\n")},
		"data/":                             {0o750, 65532, nil},
		"tmp/":                              {0o1777, 0, nil},
	} {
		h := files[name]
		if h == nil {
			t.Errorf("layer lacks %s", name)
			continue
		}
		if h.Mode != want.mode || h.Uid != want.uid || !h.ModTime.Equal(testSpec.Created) || !bytes.Equal(contents[name], want.data) {
			t.Errorf("%s: mode %o uid %d mtime %v, %d bytes", name, h.Mode, h.Uid, h.ModTime, len(contents[name]))
		}
	}
}

// untar extracts the regular files and directories of an archive into dir.
func untar(t *testing.T, archive []byte, dir string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			err = os.MkdirAll(p, 0o755)
		} else {
			var data []byte
			if data, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, data, 0o644)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestInspect checks that a static Go binary passes with its architecture
// and build information, and that anything else is refused.
func TestInspect(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "hello")
	src := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", exe, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Inspect(data)
	if err != nil || b.Arch != "arm64" || b.Version != "devel" {
		t.Errorf("Inspect = %+v, %v", b, err)
	}
	if _, err := Inspect([]byte("#!/bin/sh\n")); err == nil {
		t.Error("a script passed")
	}
	if sh, err := os.ReadFile("/bin/sh"); err == nil { // a dynamic C binary on any Linux with a loader
		if _, err := Inspect(sh); !errors.Is(err, ErrNotStatic) {
			t.Errorf("/bin/sh: %v, want ErrNotStatic", err)
		}
	}
}

// FuzzInspect feeds Inspect arbitrary bytes: it returns a Binary or an
// error, never panics.
func FuzzInspect(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Inspect(data)
		if err == nil && b.Arch == "" {
			t.Errorf("Inspect accepted %d bytes without an architecture", len(data))
		}
	})
}
