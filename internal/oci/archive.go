package oci

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefNameAnnotation names the image in an OCI layout's index.json; podman
// load tags the image it loads with it.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// WriteArchive writes img to w as an OCI image archive: the files of an OCI
// image layout (oci-layout, index.json, blobs/sha256/...) in a tar, the
// index naming the image ref. Entries are dated created, in a fixed order,
// so the archive's bytes depend on img alone.
func WriteArchive(w io.Writer, img v1.Image, ref string, created time.Time) error {
	files, err := layoutFiles(img, ref)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: created, Format: tar.FormatPAX}); err != nil {
			return fmt.Errorf("oci: archive: %w", err)
		}
	}
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.data)), ModTime: created, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("oci: archive %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("oci: archive %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("oci: archive: %w", err)
	}
	return nil
}

type file struct {
	name string
	data []byte
}

// layoutFiles returns the files of img's OCI image layout, blobs first.
func layoutFiles(img v1.Image, ref string) ([]file, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("oci: layers: %w", err)
	}
	var files []file
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("oci: layer digest: %w", err)
		}
		data, err := readAll(l.Compressed)
		if err != nil {
			return nil, fmt.Errorf("oci: layer %s: %w", d, err)
		}
		files = append(files, blob(d, data))
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("oci: config digest: %w", err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("oci: config: %w", err)
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("oci: manifest: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("oci: manifest digest: %w", err)
	}
	index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex,
		Manifests: []v1.Descriptor{{MediaType: types.OCIManifestSchema1, Size: int64(len(manifest)), Digest: digest,
			Annotations: map[string]string{RefNameAnnotation: ref}}}})
	if err != nil {
		return nil, fmt.Errorf("oci: index: %w", err)
	}
	files = append(files, blob(cfgName, cfg), blob(digest, manifest),
		file{"index.json", index}, file{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)})
	return files, nil
}

func blob(d v1.Hash, data []byte) file {
	return file{"blobs/" + d.Algorithm + "/" + d.Hex, data}
}

func readAll(open func() (io.ReadCloser, error)) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
