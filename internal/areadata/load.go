package areadata

import (
	"fmt"
	"os"
)

// Assembly verifies and reads the MajajHong2015 assembly of the store (see ReadAssembly); a
// missing or corrupt file gives the store's not-runnable error.
func (s *Store) Assembly() (*Assembly, error) {
	p, err := s.Path(AssemblyPath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("area data file %s: %w", AssemblyPath, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("area data file %s: %w", AssemblyPath, err)
	}
	a, err := ReadAssembly(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return a, nil
}

// Stimuli verifies and reads the MajajHong2015 stimulus set CSV of the store (see ReadStimuli).
func (s *Store) Stimuli() (*Stimuli, error) {
	p, err := s.Path(StimulusCSVPath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("area data file %s: %w", StimulusCSVPath, err)
	}
	defer f.Close()
	st, err := ReadStimuli(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return st, nil
}

// Cadena reads Cadena et al.'s pickle of the store (see ReadCadena). The file has no published
// hash: it is read unverified, and Unverified lists it afterwards.
func (s *Store) Cadena() (*Cadena, error) {
	p, err := s.Path(CadenaPath)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("area data file %s: %w", CadenaPath, err)
	}
	c, err := ReadCadena(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return c, nil
}
