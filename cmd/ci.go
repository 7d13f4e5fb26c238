package cmd

import (
	"fmt"
	"strings"
	"time"
)

// groupMarkers returns the lines that open and close a collapsible section
// titled title in the CI system the environment names: GitHub Actions
// (GITHUB_ACTIONS=true) workflow commands, or GitLab CI (GITLAB_CI=true)
// section markers, the end stamped with the time it is written. Outside CI
// start is empty and end nil: the output stays untouched.
func groupMarkers(getenv func(string) string, title string, now time.Time) (start string, end func(time.Time) string) {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		// A newline inside the title would end the workflow command.
		t := strings.NewReplacer("\r", " ", "\n", " ").Replace(title)
		return "::group::" + t + "\n", func(time.Time) string { return "::endgroup::\n" }
	case getenv("GITLAB_CI") == "true":
		name := sectionName(title)
		t := strings.NewReplacer("\r", " ", "\n", " ").Replace(title)
		start = fmt.Sprintf("\x1b[0Ksection_start:%d:%s[collapsed=true]\r\x1b[0K%s\n", now.Unix(), name, t)
		// The end carries the time the command ended: GitLab shows the
		// section's duration from the two stamps.
		end = func(at time.Time) string {
			return fmt.Sprintf("\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", at.Unix(), name)
		}
		return start, end
	}
	return "", nil
}

// sectionName turns a title into a GitLab section name, which may only hold
// letters, digits, '_', '.' and '-'.
func sectionName(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "pipectl"
	}
	return b.String()
}
