package browser

import (
	"context"
	"encoding/json"

	"github.com/chromedp/chromedp"
)

// Choose picks value in the select of sel as a person does: the change
// event follows. It fails when the select has no such option.
func Choose(sel, value string) chromedp.Action[chromedp.Void] {
	args, _ := json.Marshal([]string{sel, value})
	return chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		ok, err := chromedp.Evaluate[bool](`(([sel, v]) => {
			const e = document.querySelector(sel);
			if (!e || ![...e.options].some((o) => o.value === v)) return false;
			e.value = v;
			e.dispatchEvent(new Event("change", { bubbles: true }));
			return true;
		})(`+string(args)+`)`)(ctx, tgt)
		if err == nil && !ok {
			err = errNoOption{sel, value}
		}
		return err
	})
}

type errNoOption struct{ sel, value string }

func (e errNoOption) Error() string { return e.sel + " has no option " + e.value }
