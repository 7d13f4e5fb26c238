package cmd

import (
	"strings"
	"testing"
	"time"
)

func TestGroupMarkers(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	t0 := time.Unix(1000, 0)
	start, end := groupMarkers(env(map[string]string{"GITLAB_CI": "true"}), "Unit tests", t0)
	if !strings.Contains(start, "section_start:1000:unit_tests[collapsed=true]") {
		t.Errorf("start = %q", start)
	}
	// The end is stamped when written, so GitLab can show the duration.
	if got := end(time.Unix(1042, 0)); !strings.Contains(got, "section_end:1042:unit_tests") {
		t.Errorf("end = %q", got)
	}
	start, end = groupMarkers(env(map[string]string{"GITHUB_ACTIONS": "true"}), "a\nb", t0)
	if start != "::group::a b\n" || end(t0) != "::endgroup::\n" {
		t.Errorf("github markers %q %q", start, end(t0))
	}
	if start, end = groupMarkers(env(nil), "x", t0); start != "" || end != nil {
		t.Errorf("outside CI: %q", start)
	}
}
