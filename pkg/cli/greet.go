package cli

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/signalforgo/signal/pkg/console"
	"github.com/signalforgo/signal/pkg/httpapi"
	"github.com/signalforgo/signal/pkg/signal"
)

// greet tells the developer where dev serves, on which store, what runs
// in-process, and how to send a first command; with insecureAuth, first
// of all that anyone reaching the server may act as anyone.
func (k *kit) greet(url, store string, insecureAuth bool) {
	n, out := k.o.name, k.stdout
	if insecureAuth {
		fmt.Fprintf(out, "%s dev: WARNING: -insecure-dev-auth is on: every request is believed to come from whoever its %s header names; anyone who can reach this server can act as anyone. For local development only.\n",
			n, httpapi.InsecurePrincipalHeader)
	}
	pages := ""
	if k.o.pages != nil {
		pages = "; your pages at /"
	}
	fmt.Fprintf(out, "%s dev: serving %s (the API at /aggregates and /views%s)\n", n, url, pages)
	fmt.Fprintf(out, "%s dev: the console at %s%s\n", n, url, console.Prefix)
	subs := "no subscribers"
	if names := subscriberNames(k.app); len(names) > 0 {
		subs = "subscribers running in-process: " + strings.Join(names, ", ")
	}
	fmt.Fprintf(out, "%s dev: store: %s; %s\n", n, store, subs)
	if typ, cmd, ok := firstCommand(k.app); ok {
		as := ""
		if insecureAuth {
			as = " -H '" + httpapi.InsecurePrincipalHeader + ": sub=alice'"
		}
		fmt.Fprintf(out, "%s dev: try  curl -X POST %s/aggregates/%s/%s1/%s -H 'Content-Type: application/json'%s -d '%s'\n",
			n, url, typ, typ[:1], cmd.Name, as, exampleBody(cmd.GoType))
	}
}

// firstCommand is the command a first request would send: the first
// type's first genesis command an HTTP client may send, else its first
// such command of any kind.
func firstCommand(app *signal.App) (string, signal.CommandInfo, bool) {
	for _, genesis := range []bool{true, false} {
		for _, t := range app.Types {
			for _, c := range t.Commands() {
				if !c.Internal && (c.Genesis || !genesis) {
					return t.Name(), c, true
				}
			}
		}
	}
	return "", signal.CommandInfo{}, false
}

// exampleBody is a JSON body of Go type t with every field filled: a
// string with its field's name, a number 1, a boolean true; so the
// printed command shows the fields to change.
func exampleBody(t reflect.Type) string {
	v := reflect.New(t).Elem()
	fill(v, "x", 0)
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return "{}"
	}
	return strings.ReplaceAll(string(b), "'", `\u0027`) // it goes between shell quotes
}

// fill sets v to an example value named name, down to a few levels of
// nesting.
func fill(v reflect.Value, name string, depth int) {
	if depth > 3 || !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(name)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name, depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			fieldName := strings.Split(f.Tag.Get("json"), ",")[0]
			if fieldName == "-" {
				continue
			}
			if fieldName == "" {
				fieldName = strings.ToLower(f.Name)
			}
			fill(v.Field(i), fieldName, depth+1)
		}
	}
}
