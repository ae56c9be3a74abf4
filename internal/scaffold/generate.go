package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"
	"unicode"

	"golang.org/x/mod/modfile"
)

//go:embed templates
var templates embed.FS

// File is one file of a generated project.
type File struct {
	// Path is slash-separated, relative to the project's directory.
	Path string
	Data []byte
	Mode fs.FileMode
}

// data is what the templates see.
type data struct {
	Module, Name, Title, Replace string
	Signal, Devel                string
	GoVersion, RIEVersion        string
	CDKCLIVersion                string
	CDKLocalVersion              string
}

// Generate writes a new project for o into dir, printing what it writes
// to o.Progress (a line naming the service, then one per file). dir may exist if it is an empty
// directory; it is created otherwise (with its parents).
//
// Outcomes: nil, the project written; an error, with nothing written,
// when o is invalid (see Options: the module path, the name, the replace
// path) or dir is a file or a directory that is not empty; an error
// naming the file when writing fails part way (what was written stays).
func Generate(dir string, o Options) error {
	o, err := o.resolved()
	if err != nil {
		return err
	}
	if err := checkDir(dir); err != nil {
		return err
	}
	files, err := Render(o)
	if err != nil {
		return err
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "writing the %s service (module %s) into %s\n", o.Name, o.Module, dir)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "  wrote %s\n", f.Path)
		}
	}
	return nil
}

// checkDir refuses a dir that holds anything, or is not a directory.
func checkDir(dir string) error {
	if dir == "" {
		return errors.New("no directory: give the new project's directory")
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty (it holds %s): signal new writes into a new or empty directory only", dir, entries[0].Name())
	}
	return nil
}

// Render returns the files of the project for o, in a stable order,
// without writing anything. Outcomes: the files; an error when o is
// invalid (see Options) or a template fails (a bug in this package).
func Render(o Options) ([]File, error) {
	o, err := o.resolved()
	if err != nil {
		return nil, err
	}
	d := data{
		Module: o.Module, Name: o.Name, Title: title(o.Name), Replace: filepath.ToSlash(o.Replace),
		Signal: SignalModule, Devel: develVersion,
		GoVersion: GoVersion, RIEVersion: RIEVersion,
		CDKCLIVersion: CDKCLIVersion, CDKLocalVersion: CDKLocalVersion,
	}
	var files []File
	err = fs.WalkDir(templates, "templates", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		f, err := render(p, d)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	return files, err
}

// render executes one template; its output path is its own, with NAME and
// dot- replaced and .tmpl dropped.
func render(p string, d data) (File, error) {
	src, err := templates.ReadFile(p)
	if err != nil {
		return File{}, err
	}
	rel := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".tmpl")
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		if s == "NAME" {
			s = d.Name
		}
		if rest, ok := strings.CutPrefix(s, "dot-"); ok {
			s = "." + rest
		}
		segs[i] = s
	}
	rel = path.Join(segs...)
	t, err := template.New(rel).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return File{}, fmt.Errorf("scaffold: template %s: %w", p, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return File{}, fmt.Errorf("scaffold: template %s: %w", p, err)
	}
	mode := fs.FileMode(0o644)
	if strings.HasSuffix(rel, ".sh") {
		mode = 0o755
	}
	return File{Path: rel, Data: b.Bytes(), Mode: mode}, nil
}

// title is name with its first letter upper-cased: the stack's name.
func title(name string) string {
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// readModulePath returns the module path a go.mod declares.
func readModulePath(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	mod := modfile.ModulePath(b)
	if mod == "" {
		return "", fmt.Errorf("%s declares no module", gomod)
	}
	return mod, nil
}
