// Package mdtable reads the rows of Markdown (GitHub-flavoured) tables, as
// the checklist and postmortem imports find them in documents.
package mdtable

import "strings"

// Cells splits a table row into its cells, each trimmed: the outer pipes
// are optional and an escaped \| is a pipe within a cell.
func Cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	row = strings.TrimSuffix(row, "|")
	var out []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteByte('|')
			i++
		case row[i] == '|':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}
