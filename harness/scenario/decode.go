package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Option adjusts loading and validation.
type Option func(*options)

type options struct {
	allowHosts []string
}

// AllowHosts lets sut.url name these hosts (exact host names or IP
// addresses) although they are not loopback. DESIGN §8: loopback only,
// unless the user allows more explicitly.
func AllowHosts(hosts ...string) Option {
	return func(o *options) { o.allowHosts = append(o.allowHosts, hosts...) }
}

// LoadFile reads the scenario file at path and parses it (see Parse). A
// file that cannot be read gives the os error, wrapped; a file with
// problems gives *Problems. (It is not called Load: that is the type of a
// load entry.)
func LoadFile(path string, opts ...Option) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse decodes a scenario from data strictly and validates it. file names
// the source in problem positions and becomes Scenario.Source; data is kept
// as Scenario.Raw.
//
// Every problem is reported at once, as *Problems sorted by position. When
// the file holds a mapping at all, the partly decoded scenario is returned
// alongside the problems (it must not be run); otherwise the scenario is nil.
func Parse(file string, data []byte, opts ...Option) (*Scenario, error) {
	d := &decoder{file: file, pos: map[string]nodePos{}, bad: map[string]bool{}}
	root := d.document(data)
	if root == nil {
		return nil, d.problems.asError()
	}
	s := &Scenario{Source: file, Raw: bytes.Clone(data), pos: d.pos}
	d.pos[""] = nodePos{Val: d.at(root)}
	d.value(root, reflect.ValueOf(s).Elem(), "")

	var o options
	for _, opt := range opts {
		opt(&o)
	}
	v := newValidator(s, o, d.bad)
	v.validate()
	return s, append(d.problems, v.problems...).asError()
}

// nodePos is where a field sits in the file: its key and its value.
type nodePos struct{ Key, Val Pos }

// decoder walks a yaml.Node tree into a Scenario, recording the position of
// every field and every problem with the file's shape or types.
type decoder struct {
	file     string
	problems Problems
	pos      map[string]nodePos
	// bad holds paths whose value could not be decoded: the validator says
	// nothing more about them or anything under them.
	bad map[string]bool
}

func (d *decoder) at(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) report(pos Pos, path, msg, hint string) {
	d.problems = append(d.problems, Problem{Pos: pos, Path: path, Msg: msg, Hint: hint})
}

// fail reports a problem with the value at path and marks it undecodable.
func (d *decoder) fail(n *yaml.Node, path, msg, hint string) {
	d.report(d.at(n), path, msg, hint)
	d.bad[path] = true
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data and returns its root node, or nil after reporting
// why there is no usable root.
func (d *decoder) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for len(docs) < 2 {
		n, err := decodeNode(dec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.syntax(err)
			return nil
		}
		docs = append(docs, n)
	}
	if len(docs) == 0 {
		d.report(Pos{File: d.file, Line: 1, Col: 1}, "", "the file is empty",
			"a scenario needs at least name, description, services, sut, load and checks; see DESIGN §5")
		return nil
	}
	if len(docs) > 1 {
		d.report(d.at(docs[1]), "", "the file holds more than one YAML document",
			"put each scenario in its own file and remove the `---` separator")
	}
	root := docs[0]
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		d.report(d.at(root), "", fmt.Sprintf("a scenario is a mapping of keys, not %s", describe(root)),
			"start the file with `name: my-scenario`; see DESIGN §5")
		return nil
	}
	return root
}

// decodeNode reads one document. The YAML parser is third-party code fed
// arbitrary bytes; a panic in it becomes an error rather than a crash.
func decodeNode(dec *yaml.Decoder) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	n = new(yaml.Node)
	err = dec.Decode(n)
	return n, err
}

func (d *decoder) syntax(err error) {
	msg := err.Error()
	pos := Pos{File: d.file}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.report(pos, "", "invalid YAML: "+msg,
		"fix the YAML syntax first (indentation, unclosed brackets or quotes); other problems are reported once it parses")
}

// describe names a node's kind for messages: "a mapping", "a list", "the
// string \"x\"", ...
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!int":
			return "the number " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return strconv.Quote(truncate(n.Value, 40))
	}
	return "an unknown node"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// keyName is the last element of a path, for messages.
func keyName(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 && path[i] == '.' {
		return path[i+1:]
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

var (
	durationType  = reflect.TypeFor[time.Duration]()
	rateType      = reflect.TypeFor[Rate]()
	checksType    = reflect.TypeFor[[]CheckSpec]()
	posType       = reflect.TypeFor[Pos]()
	stringMapType = reflect.TypeFor[map[string]string]()
	optionsType   = reflect.TypeFor[map[string]map[string]string]()
)

// value decodes n into v, reporting problems against path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.fail(n, path, "YAML aliases (*"+n.Value+") are not supported in scenario files",
			"write the value out in full")
		return
	}
	switch t := v.Type(); {
	case t == durationType:
		d.duration(n, v, path)
	case t == rateType:
		d.rate(n, v, path)
	case t == checksType:
		d.checks(n, v, path)
	case t == stringMapType:
		d.stringMap(n, v, path)
	case t == optionsType:
		d.serviceOptions(n, v, path)
	case t.Kind() == reflect.Struct:
		d.structure(n, v, path, "yaml")
	case t.Kind() == reflect.Slice:
		d.sequence(n, v, path)
	case t.Kind() == reflect.Pointer:
		if isNull(n) {
			return
		}
		p := reflect.New(t.Elem())
		before := len(d.problems)
		d.value(n, p.Elem(), path)
		if len(d.problems) == before {
			v.Set(p)
		}
	default:
		d.scalar(n, v, path)
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// field is a settable struct field known by its YAML (or JSON) name.
type field struct {
	name  string
	index int
}

// fields lists t's fields by the name under tagKey, skipping "-", untagged
// fields and the names in skip.
func fields(t reflect.Type, tagKey string, skip ...string) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get(tagKey), ",")
		if name == "" || name == "-" || !f.IsExported() || slices.Contains(skip, name) {
			continue
		}
		out = append(out, field{name: name, index: i})
	}
	return out
}

func fieldNames(fs []field) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names
}

// structure decodes a mapping into the struct v by tagKey names. Unknown
// and repeated keys are problems.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path, tagKey string) {
	t := v.Type()
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, fmt.Sprintf("want a mapping of keys, got %s", describe(n)),
			"allowed keys: "+strings.Join(fieldNames(fields(t, tagKey)), ", "))
		return
	}
	for i := range t.NumField() {
		if t.Field(i).Type == posType && t.Field(i).Name == "Pos" {
			v.Field(i).Set(reflect.ValueOf(d.at(n)))
		}
	}
	fs := fields(t, tagKey)
	names := fieldNames(fs)
	listed := names
	if t == reflect.TypeFor[Step]() {
		listed = stepKeysFor(n, names)
	}
	d.mapping(n, path, func(key, val *yaml.Node, p string) {
		i := slices.IndexFunc(fs, func(f field) bool { return f.name == key.Value })
		if i < 0 {
			d.report(d.at(key), p, fmt.Sprintf("unknown key %q", key.Value),
				unknownHint(key.Value, names, "allowed keys here are", listed))
			return
		}
		d.value(val, v.Field(fs[i].index), p)
	})
}

// stepKeysFor narrows the keys listed in an unknown-key hint to those the
// step's fault takes, when the fault is known.
func stepKeysFor(n *yaml.Node, all []string) []string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "fault" {
			if k, ok := LookupFault(n.Content[i+1].Value); ok {
				return append([]string{"fault"}, k.Attrs...)
			}
		}
	}
	return all
}

// mapping calls fn for each key of the mapping n after checking the key is
// a plain scalar that appears once, and records its position under path.
func (d *decoder) mapping(n *yaml.Node, path string, fn func(key, val *yaml.Node, path string)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			d.report(d.at(key), path, fmt.Sprintf("keys must be plain words, got %s", describe(key)),
				"write `key: value`")
			continue
		}
		if key.Tag == "!!merge" {
			d.report(d.at(key), path, "YAML merge keys (<<) are not supported in scenario files",
				"write the keys out in full")
			continue
		}
		p := join(path, key.Value)
		if first, dup := seen[key.Value]; dup {
			d.report(d.at(key), p, fmt.Sprintf("key %q appears twice (first on line %d)", key.Value, first.Line),
				"remove one of them")
			continue
		}
		seen[key.Value] = key
		d.pos[p] = nodePos{Key: d.at(key), Val: d.at(val)}
		fn(key, val, p)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		hint := "write a list, e.g. [a, b] or one `- item` per line"
		if n.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf("write a list: [%s]", n.Value)
			if keyName(path) == "command" {
				hint = `command is argv, a list: ["./bin/my-integration", "--flag", "value"]`
			}
		}
		d.fail(n, path, fmt.Sprintf("want a list, got %s", describe(n)), hint)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := index(path, i)
		d.pos[p] = nodePos{Key: d.at(item), Val: d.at(item)}
		d.value(item, s.Index(i), p)
	}
	v.Set(s)
}

func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, fmt.Sprintf("want a mapping of names to values, got %s", describe(n)),
			"write e.g. {NAME: value}")
		return
	}
	m := make(map[string]string, len(n.Content)/2)
	d.mapping(n, path, func(key, val *yaml.Node, p string) {
		var s string
		d.value(val, reflect.ValueOf(&s).Elem(), p)
		m[key.Value] = s
	})
	v.Set(reflect.ValueOf(m))
}

// serviceOptions decodes `service_options: {<service>: {<option>: value}}`.
// Values of options the catalog knows must have the YAML type the option's
// type needs (a quoted "50" is not a count) and are stored as canonical
// text; unknown services and options are kept as written and reported by
// the validator, which also checks ranges.
func (d *decoder) serviceOptions(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, fmt.Sprintf("want a mapping of services to their options, got %s", describe(n)),
			"write e.g. service_options: {gpconnect: {patients: 50, large_records: 0.2}}")
		return
	}
	out := make(map[string]map[string]string, len(n.Content)/2)
	d.mapping(n, path, func(key, val *yaml.Node, p string) {
		svc, known := LookupService(key.Value)
		switch {
		case val.Kind == yaml.AliasNode:
			d.fail(val, p, "YAML aliases (*"+val.Value+") are not supported in scenario files", "write the value out in full")
			return
		case isNull(val):
			out[key.Value] = nil
			return
		case val.Kind != yaml.MappingNode:
			hint := "write e.g. {patients: 50}"
			if known && len(svc.Options) > 0 {
				hint = fmt.Sprintf("write e.g. {%s: %s}; %s options: %s", svc.Options[0].Name, svc.Options[0].Example,
					svc.Name, strings.Join(svc.OptionNames(), ", "))
			}
			d.fail(val, p, fmt.Sprintf("the options of service %s must be a mapping, got %s", key.Value, describe(val)), hint)
			return
		}
		opts := make(map[string]string, len(val.Content)/2)
		d.mapping(val, p, func(ok, ov *yaml.Node, op string) {
			if ov.Kind == yaml.AliasNode {
				d.fail(ov, op, "YAML aliases (*"+ov.Value+") are not supported in scenario files", "write the value out in full")
				opts[ok.Value] = ""
				return
			}
			if ov.Kind != yaml.ScalarNode || isNull(ov) {
				d.fail(ov, op, fmt.Sprintf("want a single value, got %s", describe(ov)), "write e.g. patients: 50")
				opts[ok.Value] = "" // marked bad; kept so the service still has options
				return
			}
			text := ov.Value
			if o, found := svc.Option(ok.Value); known && found {
				var good bool
				if text, good = optionText(ov, o.Type); !good {
					d.fail(ov, op, fmt.Sprintf("%s wants %s, got %s", o.Name, optionTypeName(o.Type), describe(ov)),
						fmt.Sprintf("write e.g. %s: %s", o.Name, o.Example))
					// Kept (and marked bad) so the service still has options.
					text = ov.Value
				}
			}
			opts[ok.Value] = text
		})
		out[key.Value] = opts
	})
	v.Set(reflect.ValueOf(out))
}

// optionText is the canonical text of a service option's scalar, if its
// YAML type suits the option's type.
func optionText(n *yaml.Node, t OptionType) (string, bool) {
	switch t {
	case OptionCount, OptionBytes:
		var i int64
		if n.Tag != "!!int" || n.Decode(&i) != nil {
			return "", false
		}
		return strconv.FormatInt(i, 10), true
	case OptionFraction:
		var f float64
		if (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
			return "", false
		}
		return strconv.FormatFloat(f, 'g', -1, 64), true
	case OptionDuration:
		if n.Tag != "!!str" {
			return "", false
		}
		d, err := time.ParseDuration(strings.TrimSpace(n.Value))
		if err != nil {
			return "", false
		}
		return d.String(), true
	}
	return n.Value, true
}

func optionTypeName(t OptionType) string {
	switch t {
	case OptionCount:
		return "a whole number"
	case OptionBytes:
		return "a whole number of bytes"
	case OptionFraction:
		return "a number from 0 to 1"
	case OptionDuration:
		return "a duration with a unit, e.g. 5s"
	}
	return "a value"
}

// scalar decodes strings, integers, floats and booleans, insisting on the
// right YAML type.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, fmt.Sprintf("want %s, got %s", kindName(v.Kind()), describe(n)), scalarHint(v.Kind()))
		return
	}
	if n.Tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if n.Tag != "!!int" || n.Decode(&i) != nil {
			d.fail(n, path, fmt.Sprintf("want a whole number, got %s", describe(n)), scalarHint(v.Kind()))
			return
		}
		if v.OverflowInt(i) {
			d.fail(n, path, fmt.Sprintf("%s is too large", n.Value), "use a smaller number")
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var u uint64
		if n.Tag != "!!int" || strings.HasPrefix(n.Value, "-") || n.Decode(&u) != nil || v.OverflowUint(u) {
			hint := ""
			if path == "seed" {
				hint = "use 0 to let shakedown choose a seed and record it, or a seed from an earlier run's `seed` file"
			}
			d.fail(n, path, fmt.Sprintf("%s must be a non-negative integer, got %s", keyName(path), describe(n)), hint)
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		var f float64
		if (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
			d.fail(n, path, fmt.Sprintf("want a number, got %s", describe(n)), scalarHint(v.Kind()))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, fmt.Sprintf("want true or false, got %s", describe(n)), scalarHint(v.Kind()))
			return
		}
		v.SetBool(b)
	default:
		d.fail(n, path, fmt.Sprintf("cannot decode into %s", v.Type()), "this is a bug in shakedown; please report it")
	}
}

func scalarHint(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "write a single value, in quotes if it contains ': ' or ' #'"
	case reflect.Float32, reflect.Float64:
		return "write a plain number, e.g. 0.3"
	case reflect.Bool:
		return "write true or false"
	}
	return "write a plain whole number, e.g. 1024"
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a " + k.String()
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	const units = "durations are Go durations: 300ms, 30s, 2m, 1h30m"
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, fmt.Sprintf("want a duration, got %s", describe(n)), units)
		return
	}
	switch n.Tag {
	case "!!int", "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f == 0 {
			v.SetInt(0)
			return
		}
		hint := units
		if _, err := time.ParseDuration(n.Value + "s"); err == nil {
			hint = fmt.Sprintf("write %ss for seconds or %sms for milliseconds", n.Value, n.Value)
		}
		d.fail(n, path, fmt.Sprintf("%s: durations need a unit, e.g. 30s", n.Value), hint)
		return
	case "!!str":
		dur, err := time.ParseDuration(strings.TrimSpace(n.Value))
		if err != nil {
			d.fail(n, path, fmt.Sprintf("%s is not a duration", describe(n)), units)
			return
		}
		v.SetInt(int64(dur))
		return
	}
	d.fail(n, path, fmt.Sprintf("want a duration, got %s", describe(n)), units)
}

func (d *decoder) rate(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, fmt.Sprintf("want a rate, got %s", describe(n)), "write COUNT/PER, e.g. 5/s or 300/m")
		return
	}
	if n.Tag == "!!int" || n.Tag == "!!float" {
		hint := "write COUNT/PER, e.g. 5/s or 300/m"
		if _, err := ParseRate(n.Value + "/s"); err == nil {
			hint = fmt.Sprintf("write %s/s for per second or %s/m for per minute", n.Value, n.Value)
		}
		d.fail(n, path, fmt.Sprintf("%s: rates need a unit, e.g. 5/s", n.Value), hint)
		return
	}
	r, err := ParseRate(n.Value)
	if err != nil {
		d.fail(n, path, err.Error(), "write COUNT/PER, e.g. 5/s, 300/m or 1/500ms")
		return
	}
	v.Set(reflect.ValueOf(r))
}

// checkParams are CheckSpec's parameters by JSON name.
func checkParams() []field { return fields(reflect.TypeFor[CheckSpec](), "json", "name") }

// checks decodes the checks list: each entry is a single-key mapping
// `- name: {params}`.
func (d *decoder) checks(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	const shape = "write one check per entry: `- latency: {phase: steady, p99: 2s}`, `- sut-alive: {}`"
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, fmt.Sprintf("want a list of checks, got %s", describe(n)), shape)
		return
	}
	params := checkParams()
	out := make([]CheckSpec, 0, len(n.Content))
	for i, item := range n.Content {
		p := index(path, i)
		d.pos[p] = nodePos{Key: d.at(item), Val: d.at(item)}
		var c CheckSpec
		c.Pos = d.at(item)
		switch {
		case item.Kind == yaml.ScalarNode && !isNull(item):
			d.fail(item, p, fmt.Sprintf("check %q has no parameters mapping", item.Value),
				fmt.Sprintf("each check is a single-key map: write `- %s: {}`", item.Value))
		case item.Kind != yaml.MappingNode || len(item.Content) == 0:
			d.fail(item, p, fmt.Sprintf("want a check, got %s", describe(item)), shape)
		case len(item.Content) > 2:
			keys := make([]string, 0, len(item.Content)/2)
			for j := 0; j < len(item.Content); j += 2 {
				keys = append(keys, item.Content[j].Value)
			}
			hint := "each entry is one check: " + shape
			if _, ok := LookupCheck(keys[1]); !ok {
				hint = fmt.Sprintf("indent the parameters under the check: `- %s: {%s: ...}`", keys[0], keys[1])
			}
			d.fail(item.Content[2], p, fmt.Sprintf("check entry has %d keys (%s); each entry is a single-key map",
				len(keys), strings.Join(keys, ", ")), hint)
		default:
			c = d.check(item, p, params)
		}
		out = append(out, c)
	}
	v.Set(reflect.ValueOf(out))
}

func (d *decoder) check(item *yaml.Node, path string, params []field) CheckSpec {
	key, val := item.Content[0], item.Content[1]
	c := CheckSpec{Name: key.Value, Pos: d.at(key)}
	if key.Kind != yaml.ScalarNode {
		d.fail(key, path, fmt.Sprintf("a check name must be a word, got %s", describe(key)), "write `- name: {param: value}`")
		return c
	}
	p := join(path, key.Value)
	d.pos[p] = nodePos{Key: d.at(key), Val: d.at(val)}
	kind, known := LookupCheck(key.Value)
	if !known || isNull(val) {
		return c // the validator reports unknown checks
	}
	if val.Kind != yaml.MappingNode {
		d.fail(val, p, fmt.Sprintf("the parameters of check %s must be a mapping, got %s", key.Value, describe(val)),
			checkTakesHint(kind))
		return c
	}
	cv := reflect.ValueOf(&c).Elem()
	d.mapping(val, p, func(pk, pv *yaml.Node, pp string) {
		i := slices.IndexFunc(params, func(f field) bool { return f.name == pk.Value })
		if i < 0 {
			d.report(d.at(pk), pp, fmt.Sprintf("unknown parameter %q", pk.Value),
				unknownHint(pk.Value, fieldNames(params), fmt.Sprintf("check %s takes", kind.Name), kind.Params))
			return
		}
		d.value(pv, cv.Field(params[i].index), pp)
	})
	return c
}

func checkTakesHint(k CheckKind) string {
	if len(k.Params) == 0 {
		return fmt.Sprintf("check %s takes no parameters: write `- %s: {}`", k.Name, k.Name)
	}
	return fmt.Sprintf("check %s takes: %s", k.Name, strings.Join(k.Params, ", "))
}
