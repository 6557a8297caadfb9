package envconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/acme/request-dump/internal/apispec"
)

// Variables are the input variables a Terraform module (or root module)
// declares, by name.
type Variables map[string]*Variable

// Variable is one `variable` block: what Terraform needs to turn the
// argument a caller gives into the variable's value.
type Variable struct {
	// Name is the variable's name.
	Name string
	// Type is the type constraint.
	Type cty.Type
	// Defaults are the defaults of optional(type, default) attributes.
	Defaults *typeexpr.Defaults
	// Default is the default value, cty.NilVal when the variable is required.
	Default cty.Value
	// Nullable is false when `nullable = false`: a null argument then means
	// the default.
	Nullable bool
	// Validations are the variable's validation blocks, in file order.
	Validations []Validation
	// DeclRange is where the variable is declared.
	DeclRange hcl.Range
}

// Validation is one validation block of a variable.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

var (
	variableSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}}
	variableBody   = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "type"}, {Name: "default"}, {Name: "sensitive"}, {Name: "nullable"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
	}
	validationBody = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	}}
)

// LoadVariables reads the variable blocks of every .tf file in dir.
func LoadVariables(dir string) (Variables, error) {
	files, err := parseDir(dir)
	if err != nil {
		return nil, err
	}
	vars := Variables{}
	var diags hcl.Diagnostics
	for _, f := range files {
		content, _, d := f.Body.PartialContent(variableSchema)
		diags = append(diags, d...)
		for _, block := range content.Blocks {
			v, d := decodeVariable(block)
			diags = append(diags, d...)
			if v == nil {
				continue
			}
			if prev, ok := vars[v.Name]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Duplicate variable declaration",
					Detail:  fmt.Sprintf("Variable %q was already declared at %s.", v.Name, prev.DeclRange),
					Subject: &v.DeclRange,
				})
				continue
			}
			vars[v.Name] = v
		}
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("envconfig: %w", diags)
	}
	return vars, nil
}

func decodeVariable(block *hcl.Block) (*Variable, hcl.Diagnostics) {
	v := &Variable{Name: block.Labels[0], Type: cty.DynamicPseudoType, Default: cty.NilVal, Nullable: true, DeclRange: block.DefRange}
	content, diags := block.Body.Content(variableBody)
	if diags.HasErrors() {
		return nil, diags
	}
	if attr, ok := content.Attributes["type"]; ok {
		ty, defaults, d := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = append(diags, d...)
		v.Type, v.Defaults = ty, defaults
	}
	if attr, ok := content.Attributes["nullable"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			b, err := convert.Convert(val, cty.Bool)
			if err != nil || b.IsNull() {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid nullable value", "nullable must be true or false."))
			} else {
				v.Nullable = b.True()
			}
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if v.Defaults != nil {
				val = v.Defaults.Apply(val)
			}
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, errorAt(attr.Expr.Range(), "Invalid default value for variable", fmt.Sprintf("This default value is not compatible with the variable's type constraint: %s.", err)))
			} else {
				v.Default = conv
			}
		}
	}
	for _, vb := range content.Blocks {
		vc, d := vb.Body.Content(validationBody)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v.Validations = append(v.Validations, Validation{
			Condition:    vc.Attributes["condition"].Expr,
			ErrorMessage: vc.Attributes["error_message"].Expr,
			DeclRange:    vb.DefRange,
		})
	}
	return v, diags
}

// Value returns the value Terraform 1.5 gives variable name when a caller
// passes given (cty.NilVal when the caller passes nothing): the default for
// a missing argument, optional attributes' defaults applied, converted to
// the type constraint, and every validation rule checked. The error names
// the variable's file and line and carries the error_message of every rule
// the value fails, as Terraform reports them all, not just the first.
func (vs Variables) Value(name string, given cty.Value) (cty.Value, error) {
	v, ok := vs[name]
	if !ok {
		return cty.NilVal, fmt.Errorf("no variable %q is declared (declared: %s)", name, strings.Join(vs.Names(), ", "))
	}
	return v.Value(given)
}

// Names returns the declared variables' names, sorted.
func (vs Variables) Names() []string {
	names := make([]string, 0, len(vs))
	for name := range vs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Value is Variables.Value for this variable.
func (v *Variable) Value(given cty.Value) (cty.Value, error) {
	if given == cty.NilVal || (given.IsNull() && !v.Nullable) {
		if v.Default == cty.NilVal && given == cty.NilVal {
			return cty.NilVal, fmt.Errorf("no value for required variable %q declared at %s", v.Name, v.DeclRange)
		}
		if v.Default == cty.NilVal {
			// Terraform's words, which terraform plan gives a pointer file
			// with "artifact": null too.
			return cty.NilVal, fmt.Errorf("variable %q declared at %s: required variable may not be set to null", v.Name, v.DeclRange)
		}
		given = v.Default
	}
	if v.Defaults != nil && !given.IsNull() {
		given = v.Defaults.Apply(given)
	}
	val, err := convert.Convert(given, v.Type)
	if err != nil {
		return cty.NilVal, fmt.Errorf("invalid value for variable %q declared at %s: %s", v.Name, v.DeclRange, convertError(err))
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: apispec.Functions(),
	}
	var failed []error
	for _, rule := range v.Validations {
		result, diags := rule.Condition.Value(ctx)
		if diags.HasErrors() {
			return cty.NilVal, fmt.Errorf("variable %q: validation rule at %s failed to evaluate: %w", v.Name, rule.DeclRange, diags)
		}
		if !result.IsKnown() {
			continue
		}
		ok, err := convert.Convert(result, cty.Bool)
		if err != nil || ok.IsNull() {
			return cty.NilVal, fmt.Errorf("variable %q: validation condition at %s is not a bool", v.Name, rule.DeclRange)
		}
		if ok.True() {
			continue
		}
		msg, diags := rule.ErrorMessage.Value(ctx)
		if diags.HasErrors() || msg.Type() != cty.String || msg.IsNull() {
			return cty.NilVal, fmt.Errorf("invalid value for variable %q (rule at %s)", v.Name, rule.DeclRange)
		}
		failed = append(failed, &ValidationError{Variable: v.Name, Rule: rule.DeclRange, Message: msg.AsString()})
	}
	if len(failed) > 0 {
		return cty.NilVal, errors.Join(failed...)
	}
	return val, nil
}

// ValidationError is a value that a variable's validation rule rejects.
type ValidationError struct {
	// Variable is the variable's name.
	Variable string
	// Rule is where the failing validation block is.
	Rule hcl.Range
	// Message is the rule's error_message.
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid value for variable %q: %s (validation rule at %s)", e.Variable, e.Message, e.Rule)
}

func convertError(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("attribute %s: %s", pathString(pe.Path), pe.Error())
	}
	return err.Error()
}

func pathString(path cty.Path) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().String())
			}
		}
	}
	return strings.TrimPrefix(b.String(), ".")
}

func errorAt(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng}
}

// parseDir parses every .tf file in dir, in name order.
func parseDir(dir string) ([]*hcl.File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, fmt.Errorf("envconfig: %w", err)
	}
	if len(paths) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("envconfig: %w", err)
		}
		return nil, fmt.Errorf("envconfig: %s has no .tf files", dir)
	}
	sort.Strings(paths)
	parser := hclparse.NewParser()
	files := make([]*hcl.File, 0, len(paths))
	var diags hcl.Diagnostics
	for _, p := range paths {
		f, d := parser.ParseHCLFile(p)
		diags = append(diags, d...)
		if f != nil {
			files = append(files, f)
		}
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("envconfig: %w", diags)
	}
	return files, nil
}
