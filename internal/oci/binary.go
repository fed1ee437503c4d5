package oci

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"time"
)

// ErrNotStatic is returned for an executable that needs a dynamic loader
// (built with cgo): the image has none.
var ErrNotStatic = errors.New("oci: the binary is dynamically linked; build it with CGO_ENABLED=0")

// Binary is what an executable says about itself.
type Binary struct {
	Arch     string    // GOARCH, from the ELF machine
	Version  string    // the main module's version ("devel" for a local build)
	Revision string    // vcs.revision, "-dirty" appended when vcs.modified; empty when not recorded
	Time     time.Time // vcs.time; zero when not recorded
}

// elfArch maps the ELF machines Go builds for Linux to GOARCH.
var elfArch = map[elf.Machine]string{
	elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386", elf.EM_ARM: "arm",
	elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_RISCV: "riscv64",
}

// Inspect reads a Linux executable: it must be a static Go binary
// (ErrNotStatic otherwise), and its build information gives the image's
// version and revision.
func Inspect(exe []byte) (Binary, error) {
	f, err := elf.NewFile(bytes.NewReader(exe))
	if err != nil {
		return Binary{}, fmt.Errorf("oci: not a Linux executable: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return Binary{}, ErrNotStatic
		}
	}
	b := Binary{Arch: elfArch[f.Machine]}
	if b.Arch == "" {
		return Binary{}, fmt.Errorf("oci: unsupported ELF machine %s", f.Machine)
	}
	info, err := buildinfo.Read(bytes.NewReader(exe))
	if err != nil {
		return Binary{}, fmt.Errorf("oci: no Go build information: %w", err)
	}
	b.Version = info.Main.Version
	if b.Version == "" || b.Version == "(devel)" {
		b.Version = "devel"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value + b.Revision
		case "vcs.modified":
			if s.Value == "true" {
				b.Revision += "-dirty"
			}
		case "vcs.time":
			b.Time, _ = time.Parse(time.RFC3339, s.Value)
		}
	}
	return b, nil
}
