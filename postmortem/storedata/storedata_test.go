package storedata_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/oncallhq/oncall/incidents"
	"github.com/oncallhq/oncall/notify"
	"github.com/oncallhq/oncall/postmortem/storedata"
	"github.com/oncallhq/oncall/store/sqlite"
)

// Pages of a range come whole however many newer ones there are: the
// store is read newest first in growing batches.
func TestPagesOfARange(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "oncall.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var pages []incidents.Page
	for i := range 2500 {
		pages = append(pages, incidents.Page{Key: fmt.Sprintf("INC-%d/p1/ana", i%7+1), IncidentID: int64(i%7 + 1), Kind: "trigger", Target: "ana", CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
		pages[i].Key = fmt.Sprintf("%s/%d", pages[i].Key, i)
	}
	if err := st.Enqueue(context.Background(), notify.Pages(pages)); err != nil {
		t.Fatal(err)
	}
	r := storedata.Reader{Store: st}
	got, err := r.Pages(context.Background(), t0.Add(100*time.Minute), t0.Add(200*time.Minute))
	if err != nil || len(got) != 100 || !got[0].CreatedAt.Equal(t0.Add(100*time.Minute)) || !got[99].CreatedAt.Equal(t0.Add(199*time.Minute)) {
		t.Fatalf("pages of [100m, 200m): %d %v", len(got), err)
	}
	if got[0].ID == 0 {
		t.Error("pages lack their message id")
	}
}
