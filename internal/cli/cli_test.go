package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
)

// runMain runs the command line args and returns its exit code and output.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdout: &out, stderr: &errOut, command: selfCommand}
	code = c.main(t.Context(), args)
	return code, out.String(), errOut.String()
}

// flagNames returns the names of the flags cmd defines.
func flagNames(cmd *command) []string {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.setup(&cli{}, fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// listsFlag reports whether usage text lists --name, with an argument or as a switch.
func listsFlag(out, name string) bool {
	return strings.Contains(out, "  --"+name+" ") || strings.Contains(out, "  --"+name+"\n")
}

func TestCommandHelpListsEveryFlag(t *testing.T) {
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			code, out, errOut := runMain(t, cmd.name, "-h")
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, want := range []string{"Usage: parley " + cmd.name, "Example:\n  parley " + cmd.name} {
				if !strings.Contains(out, want) {
					t.Errorf("usage lacks %q:\n%s", want, out)
				}
			}
			for _, name := range flagNames(cmd) {
				if !listsFlag(out, name) {
					t.Errorf("usage lacks --%s:\n%s", name, out)
				}
			}
		})
	}
}

func TestHelpExplainsEveryCommand(t *testing.T) {
	code, out, _ := runMain(t, "help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, cmd := range commands() {
		if !strings.Contains(out, "Usage: parley "+cmd.name) {
			t.Errorf("help lacks the usage of %s", cmd.name)
		}
		for _, name := range flagNames(cmd) {
			if !listsFlag(out, name) {
				t.Errorf("help lacks --%s of %s", name, cmd.name)
			}
		}
	}
	code, out, _ = runMain(t, "help", "up")
	if code != exitOK || !strings.Contains(out, "--grace") || strings.Contains(out, "Usage: parley run") {
		t.Errorf("help up: exit %d\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{nil, "Commands:"},
		{[]string{"frobnicate"}, `parley: unknown command "frobnicate"`},
		{[]string{"run", "--bogus"}, "parley: run: flag provided but not defined: -bogus\nRun 'parley run -h' for usage.\n"},
		{[]string{"run", "--config", "x.yaml"}, "parley: run: --app is required\n"},
		{[]string{"version", "extra"}, `parley: version: unexpected argument "extra"`},
		{[]string{"help", "nope"}, `parley: help: unknown command "nope"`},
		{[]string{"up", "--grace", "soon"}, "parley: up: invalid value"},
	}
	for _, tt := range tests {
		code, out, errOut := runMain(t, tt.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runMain(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "parley github.com/parley-chat/parley ") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestCheckConfigEmbedded(t *testing.T) {
	code, out, errOut := runMain(t, "check-config")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	d, err := config.Parse("<embedded>", deploy.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	names := d.Names()
	if len(lines) != len(names) {
		t.Fatalf("%d lines for %d applications:\n%s", len(lines), len(names), out)
	}
	for i, name := range names {
		if !strings.HasPrefix(lines[i], name+" ") || !strings.Contains(lines[i], string(d.Applications[name].Type)) {
			t.Errorf("line %d = %q, want application %s", i, lines[i], name)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "chat-1 chat-server 127.0.0.1:7021 database main (sqlite)") {
		t.Errorf("output lacks chat-1's line:\n%s", out)
	}
}

func TestCheckConfigBadFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.yaml")
	bad := strings.Replace(testDeployment(t.TempDir(), "127.0.0.1:7010", "127.0.0.1:7021", "127.0.0.1:7022"), "transcript-auto-save: 1", "transcript-auto-save: 9", 1)
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain(t, "check-config", "--config", file)
	if code != exitFailure || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	want := "parley: " + file + `: application "chat-1": [settings] transcript-auto-save = 9:`
	if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, want) {
		t.Errorf("stderr %q, want one line starting %q", errOut, want)
	}
}

func TestCheckConfigMissingFile(t *testing.T) {
	code, _, errOut := runMain(t, "check-config", "--config", "/nonexistent/parley.yaml")
	if code != exitFailure || !strings.HasPrefix(errOut, "parley: ") || !strings.Contains(errOut, "/nonexistent/parley.yaml") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestRunUnknownApplication(t *testing.T) {
	code, _, errOut := runMain(t, "run", "--app", "chat-9")
	d, err := config.Parse("<embedded>", deploy.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	want := `parley: <embedded>: application "chat-9": no such application (have ` + strings.Join(d.Names(), ", ") + ")\n"
	if code != exitFailure || errOut != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", code, errOut, want)
	}
}

func TestLoadDeploymentResolvesDataDir(t *testing.T) {
	d, err := loadDeployment("")
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "parley-data"); d.DataDir != want {
		t.Errorf("DataDir = %q, want %q", d.DataDir, want)
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, &config.Application{Name: "chat-1", Log: config.LogOptions{Verbose: "standard"}})
	log.Debug("hidden")
	log.Info("shown", "k", "v")
	out := buf.String()
	if strings.Contains(out, "hidden") || strings.Count(out, "\n") != 1 || !strings.Contains(out, "msg=shown app=chat-1 k=v") {
		t.Errorf("log output %q", out)
	}
}
