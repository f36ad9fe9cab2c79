package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Command is what one subcommand adds to the settings every command reads.
type Command struct {
	Name  string              // "unid client create", in messages and -h
	Usage string              // printed first by -h
	Flags func(*flag.FlagSet) // the command's own flags, if any
	Args  bool                // positional arguments are allowed (returned by Load)
	Serve bool                // check that the settings can serve (Check), not only their values
}

// Load reads the settings of a command: the defaults, then the
// configuration file (--config or UNID_CONFIG), then UNID_* variables, then
// the flags in args; it reads the files of Secret settings and checks the
// values. It returns the positional arguments. With -h or --help it prints
// the command's usage to help and returns flag.ErrHelp, having opened
// nothing.
func Load(cmd Command, args []string, getenv func(string) string, help io.Writer) (Config, []string, error) {
	c := Default()
	set := c.settings()
	byKey := map[string]setting{}
	for _, s := range set {
		byKey[s.key] = s
	}

	// Flags are parsed first but applied last: they only record here.
	fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	file := getenv("UNID_CONFIG")
	fs.StringVar(&file, "config", file, "configuration file (.yaml, .yml or .toml); UNID_* variables and flags override it")
	var flagged []assignment
	for _, s := range set {
		fs.Var(&recorder{s: s, def: s.value.String(), to: &flagged}, s.flagName(), s.usage)
	}
	if cmd.Flags != nil {
		cmd.Flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(help, cmd)
			return c, nil, err
		}
		return c, nil, fmt.Errorf("%w (`%s -h` lists the flags)", err, cmd.Name)
	}
	if !cmd.Args && fs.NArg() > 0 {
		return c, nil, fmt.Errorf("config: unexpected arguments %q", fs.Args())
	}

	var errs []error
	if file != "" {
		doc, err := readDocument(file)
		if err != nil {
			return c, nil, err
		}
		c.File = file
		errs = append(errs, applyDocument(doc, &c, byKey)...)
	}
	var env []assignment
	for _, s := range set {
		if v := getenv(EnvName(s.key)); v != "" {
			env = append(env, assignment{key: s.key, raw: v, name: EnvName})
		}
	}
	errs = append(errs, apply(env, byKey)...)
	errs = append(errs, apply(flagged, byKey)...)
	if err := errors.Join(errs...); err != nil {
		return c, nil, err
	}
	if err := c.finish(); err != nil {
		return c, nil, err
	}
	if cmd.Serve {
		return c, fs.Args(), c.Check()
	}
	return c, fs.Args(), c.validate()
}

// Parse reads the settings of `unid serve` (see Load) and checks that they
// can serve.
func Parse(name string, args []string, getenv func(string) string) (Config, error) {
	c, _, err := Load(Command{Name: name, Serve: true}, args, getenv, io.Discard)
	return c, err
}

// CheckFile reads the configuration file name alone over the defaults and
// reports every problem in it: syntax, unknown keys, values of the wrong
// type, invalid values and missing secret files. It does not ask whether the
// file, with the environment and flags, is enough to serve.
func CheckFile(name string) error {
	c := Default()
	byKey := map[string]setting{}
	for _, s := range c.settings() {
		byKey[s.key] = s
	}
	doc, err := readDocument(name)
	if err != nil {
		return err
	}
	c.File = name
	if err := errors.Join(applyDocument(doc, &c, byKey)...); err != nil {
		return err
	}
	if err := c.finish(); err != nil {
		return err
	}
	return c.validate()
}

// finish fills in derived defaults and reads Secret files.
func (c *Config) finish() error {
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.DataDir, "unid.key")
	}
	if c.Audit.ArchiveDir == "" {
		c.Audit.ArchiveDir = filepath.Join(c.DataDir, "audit-archive")
	}
	var errs []error
	read := func(key string, s *Secret) {
		if s.File == "" {
			return
		}
		data, err := os.ReadFile(s.File)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s-file: %w", key, err))
			return
		}
		s.Value = strings.TrimRight(string(data), "\r\n")
		if s.Value == "" {
			errs = append(errs, fmt.Errorf("config: %s-file: %s is empty", key, s.File))
		}
	}
	for _, s := range c.settings() {
		if v, ok := s.value.(secretValue); ok && !v.file {
			read(s.key, v.s)
		}
	}
	for i := range c.Upstream {
		read(fmt.Sprintf("upstream[%d].client-secret", i), &c.Upstream[i].ClientSecret)
	}
	return errors.Join(errs...)
}

// assignment is one value given to a setting by one source.
type assignment struct {
	key   string
	raw   string
	where string                  // "unid.yaml:3: " for a file, else empty
	name  func(key string) string // how the source calls a setting: --addr, UNID_ADDR, addr
}

func flagStyle(key string) string { return "--" + strings.ReplaceAll(key, ".", "-") }

// keyStyle names keys of the file under prefix ("upstream[0].").
func keyStyle(prefix string) func(string) string {
	return func(key string) string { return prefix + key }
}

// recorder is the flag.Value of a setting while flags are parsed: it notes
// the value, to be applied after the file and the environment.
type recorder struct {
	s   setting
	def string
	to  *[]assignment
}

func (r *recorder) Set(v string) error {
	*r.to = append(*r.to, assignment{key: r.s.key, raw: v, name: flagStyle})
	return nil
}

func (r *recorder) String() string {
	if r == nil {
		return ""
	}
	return r.def
}

func (r *recorder) IsBoolFlag() bool {
	_, ok := r.s.value.(*boolValue)
	return ok
}

// apply sets the assignments of one source, in order. A Secret given both
// itself and as a file by the same source is refused: which one was meant?
func apply(as []assignment, byKey map[string]setting) []error {
	var errs []error
	given := map[string]bool{}
	for _, a := range as {
		s := byKey[a.key]
		if err := s.value.Set(a.raw); err != nil {
			errs = append(errs, fmt.Errorf("config: %s%s %q: want %s", a.where, a.name(a.key), a.raw, typeName(s.value)))
		}
		given[a.key] = true
		if s.twin != "" && given[s.twin] {
			errs = append(errs, fmt.Errorf("config: %s%s and %s are both given; give one", a.where, a.name(s.twin), a.name(a.key)))
		}
	}
	return errs
}

// applyDocument sets the settings a configuration file gives. Every key
// must be a setting or a section; the errors name each one that is not.
func applyDocument(d *document, c *Config, byKey map[string]setting) []error {
	if d.root == nil {
		return nil
	}
	if !d.root.isMap {
		return []error{fmt.Errorf("config: %s: want a mapping of settings at the top", d.name)}
	}
	sections := map[string]bool{}
	for k := range byKey {
		if sec, _, ok := strings.Cut(k, "."); ok {
			sections[sec] = true
		}
	}
	var as []assignment
	var errs []error
	var walk func(prefix string, path []any, n *node)
	walk = func(prefix string, path []any, n *node) {
		for _, f := range n.fields {
			key := prefix + f.key
			at := append(path[:len(path):len(path)], f.key)
			switch {
			case prefix == "" && f.key == "upstream":
				errs = append(errs, decodeUpstream(d, at, f.val, c)...)
			case prefix == "" && sections[f.key]:
				if f.val == nil {
					continue
				}
				if !f.val.isMap {
					errs = append(errs, fmt.Errorf("config: %s: %s: want a section (a mapping of settings)", d.where(at), key))
					continue
				}
				walk(key+".", at, f.val)
			case byKey[key].value != nil:
				if f.val == nil {
					continue
				}
				if f.val.scalar == nil {
					errs = append(errs, fmt.Errorf("config: %s: %s: want %s, not a list or a mapping", d.where(at), key, typeName(byKey[key].value)))
					continue
				}
				as = append(as, assignment{key: key, raw: *f.val.scalar, where: d.where(at) + ": ", name: keyStyle("")})
			default:
				errs = append(errs, fmt.Errorf("config: %s: unknown key %q", d.where(at), key))
			}
		}
	}
	walk("", nil, d.root)
	return append(errs, apply(as, byKey)...)
}

// decodeUpstream reads the list of upstream OpenID providers.
func decodeUpstream(d *document, path []any, n *node, c *Config) []error {
	if n == nil {
		return nil
	}
	if n.isMap || n.scalar != nil {
		return []error{fmt.Errorf("config: %s: upstream: want a list of providers", d.where(path))}
	}
	var errs []error
	c.Upstream = nil
	for i, item := range n.items {
		u := DefaultUpstream()
		at := append(path[:len(path):len(path)], i)
		name := fmt.Sprintf("upstream[%d]", i)
		if item == nil || !item.isMap {
			errs = append(errs, fmt.Errorf("config: %s: %s: want a mapping (id, name, issuer, …)", d.where(path), name))
			continue
		}
		byKey := map[string]setting{}
		for _, s := range u.settings() {
			byKey[s.key] = s
		}
		var as []assignment
		for _, f := range item.fields {
			fat := append(at[:len(at):len(at)], f.key)
			key := name + "." + f.key
			switch {
			case f.val == nil:
			case f.key == "scopes":
				if f.val.isMap || f.val.scalar != nil {
					errs = append(errs, fmt.Errorf("config: %s: %s: want a list of scopes", d.where(fat), key))
					continue
				}
				u.Scopes = nil
				for _, s := range f.val.items {
					if s == nil || s.scalar == nil {
						errs = append(errs, fmt.Errorf("config: %s: %s: want a list of scopes", d.where(fat), key))
						break
					}
					u.Scopes = append(u.Scopes, *s.scalar)
				}
			case byKey[f.key].value != nil:
				if f.val.scalar == nil {
					errs = append(errs, fmt.Errorf("config: %s: %s: want a string", d.where(fat), key))
					continue
				}
				as = append(as, assignment{key: f.key, raw: *f.val.scalar, where: d.where(fat) + ": ", name: keyStyle(name + ".")})
			default:
				errs = append(errs, fmt.Errorf("config: %s: unknown key %q", d.where(fat), key))
			}
		}
		errs = append(errs, apply(as, byKey)...)
		c.Upstream = append(c.Upstream, u)
	}
	return errs
}

// EnvName is the environment variable of a setting, by its file key or its
// flag: sms.gateway-url and --sms-gateway-url are UNID_SMS_GATEWAY_URL.
func EnvName(key string) string {
	return "UNID_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
}

// Setting describes one setting for documentation and -h: its flag, its
// environment variable, its key in the configuration file, its default and
// its meaning.
type Setting struct {
	Flag    string
	Env     string
	Key     string // empty for --config, which a file cannot set
	Default string
	Usage   string
}

// Table lists every setting, by flag.
func Table() []Setting {
	c := Default()
	out := []Setting{{Flag: "--config", Env: "UNID_CONFIG", Usage: "configuration file (.yaml, .yml or .toml); UNID_* variables and flags override it"}}
	for _, s := range c.settings() {
		out = append(out, Setting{Flag: "--" + s.flagName(), Env: EnvName(s.key), Key: s.key, Default: s.value.String(), Usage: s.usage})
	}
	return out
}

func printHelp(w io.Writer, cmd Command) {
	if cmd.Usage != "" {
		fmt.Fprintln(w, strings.TrimRight(cmd.Usage, "\n"))
	} else {
		fmt.Fprintf(w, "Usage: %s [flags]\n", cmd.Name)
	}
	if cmd.Flags != nil {
		own := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
		own.SetOutput(w)
		cmd.Flags(own)
		fmt.Fprintln(w, "\nFlags:")
		own.PrintDefaults()
	}
	if !cmd.Serve {
		fmt.Fprintln(w, "\nSettings: --config FILE, UNID_* variables and the flags of `unid serve -h` (only those that matter here, such as --data, --database-url and --key-file, are used).")
		return
	}
	fmt.Fprintln(w, "\nSettings (default < --config FILE < UNID_* variable < flag; `unid config` prints them as a table):")
	for _, s := range Table() {
		def := ""
		if s.Default != "" {
			def = " (default " + s.Default + ")"
		}
		fmt.Fprintf(w, "  %s  %s\n    \t%s%s\n", s.Flag, s.Env, s.Usage, def)
	}
}
