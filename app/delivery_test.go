package app

import (
	"path/filepath"
	"testing"

	"github.com/oncallhq/oncall/config"
	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
)

// A person's pages and their updates go out on channels of their own (a
// relay channel has one deliverer: the page's includes the console, the
// update's does not); a person with no paging service is paged on the
// console alone and their updates go nowhere.
func TestPageRoutes(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "oncall.yaml"), []byte("state_dir: state\nusers:\n  - {name: ana, pagerduty_key: ANAana000000000000000000000000aa}\n  - {name: bo}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfg.Routing()
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDelivery(cfg, rc, "http://oncall.example.com", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	msg := func(target string, update bool) notify.Message {
		pg := incidents.Page{Key: "INC-1/p1/" + target, Target: target, Kind: incidents.PageTrigger}
		if update {
			pg = incidents.Page{Key: pg.Key + "/acknowledge", Of: pg.Key, Target: target, Kind: incidents.PageAcknowledge}
		}
		return notify.Pages([]incidents.Page{pg})[0]
	}
	for _, tc := range []struct {
		m    notify.Message
		want string
	}{
		{msg("ana", false), "pages to ana"},
		{msg("ana", true), "page updates to ana"},
		{msg("bo", false), "console"},
		{msg("bo", true), "page updates"},
	} {
		_, ch, err := d.route(tc.m)
		if err != nil || ch != tc.want {
			t.Errorf("%s: channel %q (%v), want %q", tc.m.Key, ch, err, tc.want)
		}
	}
}
