// Package terraform holds only tests: they parse the Terraform modules and
// roots with hashicorp/hcl and check what `terraform validate` and `plan`
// cannot check here (no provider can be downloaded): the invariants the
// service depends on, how every env root is wired, and the modules'
// validation rules, evaluated with Terraform's functions.
package terraform

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/acme/request-dump/internal/apispec"
	"github.com/acme/request-dump/internal/repo"
)

// config is the parsed .tf files of one module or root.
type config struct {
	dir    string
	bodies []*hclsyntax.Body
	srcs   map[string][]byte
}

func load(t *testing.T, rel string) *config {
	t.Helper()
	dir, err := repo.Path(rel)
	require.NoError(t, err)
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "%s has no .tf files", rel)
	sort.Strings(paths)
	c := &config{dir: dir, srcs: map[string][]byte{}}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		require.NoError(t, err)
		f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		require.False(t, diags.HasErrors(), diags.Error())
		c.bodies = append(c.bodies, f.Body.(*hclsyntax.Body))
		c.srcs[p] = src
	}
	return c
}

// blocks returns the top-level blocks of type typ whose labels start with labels.
func (c *config) blocks(typ string, labels ...string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, body := range c.bodies {
		for _, b := range body.Blocks {
			if b.Type == typ && hasPrefix(b.Labels, labels) {
				out = append(out, b)
			}
		}
	}
	return out
}

func hasPrefix(labels, prefix []string) bool {
	if len(prefix) > len(labels) {
		return false
	}
	for i := range prefix {
		if labels[i] != prefix[i] {
			return false
		}
	}
	return true
}

// block returns the one top-level block of type typ with exactly labels.
func (c *config) block(t *testing.T, typ string, labels ...string) *hclsyntax.Body {
	t.Helper()
	bs := c.blocks(typ, labels...)
	require.Len(t, bs, 1, "%s: want exactly one %s %v", c.dir, typ, labels)
	return bs[0].Body
}

// local returns the expression of local.name.
func (c *config) local(t *testing.T, name string) hclsyntax.Expression {
	t.Helper()
	for _, b := range c.blocks("locals") {
		if a, ok := b.Body.Attributes[name]; ok {
			return a.Expr
		}
	}
	t.Fatalf("%s has no local.%s", c.dir, name)
	return nil
}

// nested returns the nested blocks of type typ in body.
func nested(body *hclsyntax.Body, typ string) []*hclsyntax.Body {
	var out []*hclsyntax.Body
	for _, b := range body.Blocks {
		if b.Type == typ {
			out = append(out, b.Body)
		}
	}
	return out
}

// one returns the single nested block of type typ in body.
func one(t *testing.T, body *hclsyntax.Body, typ string) *hclsyntax.Body {
	t.Helper()
	bs := nested(body, typ)
	require.Len(t, bs, 1, "want exactly one %s block", typ)
	return bs[0]
}

func attr(t *testing.T, body *hclsyntax.Body, name string) hclsyntax.Expression {
	t.Helper()
	a, ok := body.Attributes[name]
	require.True(t, ok, "missing attribute %s", name)
	return a.Expr
}

// source returns an expression's text, whitespace collapsed.
func (c *config) source(expr hclsyntax.Expression) string {
	rng := expr.Range()
	return strings.Join(strings.Fields(string(rng.SliceBytes(c.srcs[rng.Filename]))), " ")
}

// refs returns the references an expression makes, as text (var.name,
// aws_lambda_function.this.arn, ...).
func refs(expr hclsyntax.Expression) []string {
	var out []string
	for _, tr := range expr.Variables() {
		parts := []string{tr.RootName()}
		for _, step := range tr[1:] {
			a, ok := step.(hcl.TraverseAttr)
			if !ok {
				break
			}
			parts = append(parts, a.Name)
		}
		out = append(out, strings.Join(parts, "."))
	}
	sort.Strings(out)
	return out
}

// functions returns Terraform's functions as internal/apispec implements
// them, plus those the module uses but the local stack never needs
// (Terraform's own are not importable): sha1 for the deployment's
// triggers, toset and one for the access and WAF resources that exist
// only in some modes, and sensitive, which marks a value Terraform hides
// in plans and outputs; marks play no part in these tests, so it returns
// its argument.
func functions() map[string]function.Function {
	funcs := apispec.Functions()
	funcs["sha1"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			sum := sha1.Sum([]byte(args[0].AsString()))
			return cty.StringVal(hex.EncodeToString(sum[:])), nil
		},
	})
	funcs["toset"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			switch {
			case ty.IsListType() || ty.IsSetType():
				return cty.Set(ty.ElementType()), nil
			case ty.IsTupleType():
				if len(ty.TupleElementTypes()) == 0 {
					return cty.Set(cty.DynamicPseudoType), nil
				}
				elem, _ := convert.UnifyUnsafe(ty.TupleElementTypes())
				if elem == cty.NilType {
					return cty.NilType, fmt.Errorf("toset: the elements have no common type")
				}
				return cty.Set(elem), nil
			}
			return cty.NilType, fmt.Errorf("toset: a list, set or tuple is required, not %s", ty.FriendlyName())
		},
		Impl: func(args []cty.Value, ret cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], ret)
		},
	})
	funcs["one"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			switch {
			case ty.IsListType() || ty.IsSetType():
				return ty.ElementType(), nil
			case ty.IsTupleType() && len(ty.TupleElementTypes()) == 0:
				return cty.DynamicPseudoType, nil
			case ty.IsTupleType() && len(ty.TupleElementTypes()) == 1:
				return ty.TupleElementTypes()[0], nil
			}
			return cty.NilType, fmt.Errorf("one: a list, set or tuple of at most one element is required, not %s", ty.FriendlyName())
		},
		Impl: func(args []cty.Value, ret cty.Type) (cty.Value, error) {
			switch n := args[0].LengthInt(); n {
			case 0:
				return cty.NullVal(ret), nil
			case 1:
				it := args[0].ElementIterator()
				it.Next()
				_, v := it.Element()
				return v, nil
			default:
				return cty.NilVal, fmt.Errorf("one: %d elements, at most one is allowed", n)
			}
		},
	})
	funcs["sensitive"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType}},
		Type:   func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		Impl:   func(args []cty.Value, _ cty.Type) (cty.Value, error) { return args[0], nil },
	})
	return funcs
}

// eval evaluates expr with Terraform's functions and the given scope.
func eval(t *testing.T, expr hcl.Expression, scope map[string]cty.Value) cty.Value {
	t.Helper()
	val, diags := expr.Value(&hcl.EvalContext{Variables: scope, Functions: functions()})
	require.False(t, diags.HasErrors(), diags.Error())
	return val
}

// literal parses and evaluates an HCL expression written in a test.
func literal(t *testing.T, src string) cty.Value {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.tf", hcl.InitialPos)
	require.False(t, diags.HasErrors(), diags.Error())
	val, diags := expr.Value(&hcl.EvalContext{Functions: functions()})
	require.False(t, diags.HasErrors(), diags.Error())
	return val
}

func strs(t *testing.T, v cty.Value) []string {
	t.Helper()
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}

func obj(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
