package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseShellBlocks returns the ```sh blocks of a Markdown text between the
// line starting with begin and the one starting with end. Every fenced
// block there must be a ```sh block, at the start of its line and closed:
// a ```bash, ```shell, indented or unclosed block would otherwise be left
// out of the run without a word, and a reader would paste it untested.
func parseShellBlocks(text, begin, end string) ([]string, error) {
	var blocks, cur []string
	in, inBlock, seenBegin, seenEnd := false, false, false, false
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		fence := strings.HasPrefix(strings.TrimSpace(line), "```")
		switch {
		case !inBlock && strings.HasPrefix(line, begin):
			if seenBegin {
				return nil, fmt.Errorf("line %d: a second %q", n, begin)
			}
			in, seenBegin = true, true
		case !inBlock && in && strings.HasPrefix(line, end):
			in, seenEnd = false, true
		case !in:
		case !inBlock && fence && line == "```sh":
			inBlock, cur = true, nil
		case !inBlock && fence:
			return nil, fmt.Errorf("line %d: %q: only ```sh blocks, at the start of a line, are run between %q and %q; this one would be skipped", n, line, begin, end)
		case inBlock && line == "```":
			inBlock = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case inBlock && fence:
			return nil, fmt.Errorf("line %d: %q inside a ```sh block", n, line)
		case inBlock:
			cur = append(cur, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	switch {
	case !seenBegin:
		return nil, fmt.Errorf("no line starting with %q", begin)
	case inBlock:
		return nil, errors.New("a ```sh block is not closed")
	case !seenEnd:
		return nil, fmt.Errorf("no line starting with %q after %q", end, begin)
	case len(blocks) == 0:
		return nil, fmt.Errorf("no ```sh blocks between %q and %q", begin, end)
	}
	return blocks, nil
}

func TestParseShellBlocks(t *testing.T) {
	const b, e = "<!-- run:begin", "<!-- run:end"
	tests := []struct {
		name, text string
		want       []string
		err        string
	}{
		{"two blocks, prose and a block outside", "```sh\nno\n```\n<!-- run:begin -->\ntext\n```sh\na\nb\n```\nmore\n```sh\nc\n```\n<!-- run:end -->\n```sh\nno\n```\n", []string{"a\nb", "c"}, ""},
		{"a bash block would be skipped", b + "\n```sh\na\n```\n```bash\nb\n```\n" + e + "\n", nil, "would be skipped"},
		{"an indented block would be skipped", b + "\n```sh\na\n```\n  ```sh\n  b\n  ```\n" + e + "\n", nil, "would be skipped"},
		{"a block with a space would be skipped", b + "\n``` sh\nb\n```\n" + e + "\n", nil, "would be skipped"},
		{"an unclosed block", b + "\n```sh\na\n" + e + "\n", nil, "not closed"},
		{"no end", b + "\n```sh\na\n```\n", nil, "no line starting with \"<!-- run:end\""},
		{"no begin", "```sh\na\n```\n", nil, "no line starting with \"<!-- run:begin\""},
		{"no blocks", b + "\ntext\n" + e + "\n", nil, "no ```sh blocks"},
		{"two begins", b + "\n```sh\na\n```\n" + b + "\n" + e + "\n", nil, "a second"},
		{"a json block is not run either", b + "\n```json\n{}\n```\n" + e + "\n", nil, "would be skipped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseShellBlocks(tc.text, b, e)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestDocumentedCommandsAreRunnable: the README's quickstart and
// infra/local/README.md's /_sim section hold only blocks the end-to-end
// suite runs (checked here without the stack, so a bad fence fails make
// unit, not only the e2e run).
func TestDocumentedCommandsAreRunnable(t *testing.T) {
	for _, d := range []struct{ file, begin, end string }{
		{"README.md", "<!-- quickstart:begin", "<!-- quickstart:end"},
		{"infra/local/README.md", "<!-- sim:begin", "<!-- sim:end"},
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", d.file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseShellBlocks(string(b), d.begin, d.end); err != nil {
			t.Errorf("%s: %v", d.file, err)
		}
	}
}
