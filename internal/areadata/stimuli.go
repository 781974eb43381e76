package areadata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// MaxStimulusRows bounds the rows ReadStimuli accepts (the public HVM set has 3,200).
const MaxStimulusRows = 1 << 20

// Stimuli is a Brain-Score stimulus set CSV, as image_dicarlo_hvm-public.csv: one row per image,
// with at least the columns image_id and image_file_name (the name of the image in the stimulus
// zip). Columns holds every column's values by name, in row order.
type Stimuli struct {
	IDs, Files []string
	Columns    map[string][]string
	index      map[string]int
}

// File returns the image file name of an image id.
func (s *Stimuli) File(id string) (string, bool) {
	i, ok := s.index[id]
	if !ok {
		return "", false
	}
	return s.Files[i], true
}

// ReadStimuli reads a stimulus set CSV. A missing column, a row of the wrong length, an empty or
// repeated image_id is an error naming the line.
func ReadStimuli(r io.Reader) (*Stimuli, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("stimuli: empty CSV")
	}
	if err != nil {
		return nil, fmt.Errorf("stimuli: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("stimuli: column %q appears twice", h)
		}
		col[h] = i
	}
	idCol, ok1 := col["image_id"]
	fileCol, ok2 := col["image_file_name"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("stimuli: the header %q lacks image_id or image_file_name", header)
	}
	s := &Stimuli{Columns: map[string][]string{}, index: map[string]int{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("stimuli: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(s.IDs) == MaxStimulusRows {
			return nil, fmt.Errorf("stimuli: more than %d rows", MaxStimulusRows)
		}
		id, file := rec[idCol], rec[fileCol]
		if id == "" || file == "" {
			return nil, fmt.Errorf("stimuli: line %d: empty image_id or image_file_name", line)
		}
		if _, dup := s.index[id]; dup {
			return nil, fmt.Errorf("stimuli: line %d: image_id %q appears twice", line, id)
		}
		s.index[id] = len(s.IDs)
		s.IDs = append(s.IDs, id)
		s.Files = append(s.Files, file)
		for i, h := range header {
			s.Columns[h] = append(s.Columns[h], rec[i])
		}
	}
	if len(s.IDs) == 0 {
		return nil, errors.New("stimuli: no rows")
	}
	return s, nil
}
