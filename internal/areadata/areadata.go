// Package areadata pins the recordings of visual areas other than V4 that the suite evaluates
// against, none of which may be redistributed with it: Brain-Score's public MajajHong2015
// assembly (V4 and IT multi-unit sites) with its stimulus set, and Cadena et al. 2019's V1
// recordings. Each file has a path below the area data directory, the URL its publisher serves
// it from, and the SHA-1 its publisher records; a Store verifies a file before handing it out,
// and Fetch downloads missing or corrupt files through internal/pinfetch (hash while streaming,
// atomic rename). A missing file is reported as not runnable, naming the file, its hash and
// where it comes from.
//
// Brain-Score's hashes are plain SHA-1s of the file content (brainio's fetch_file compares
// hashlib.sha1 of the downloaded file), not git blob hashes like the V4 manifest's. Cadena et
// al. publish no hash of their pickle: its entry has none, Fetch cannot download it (its
// publisher serves it inside a zip archive of the whole GIN repository), and a Store hands it out
// unverified, listing it in Unverified so that a run can say so.
//
// For evaluation, an Area holds one region's responses (repeat-averaged and raw, the MajajHong2015
// responses averaged over Brain-Score's 70–170 ms window), its fit/evaluation split (Brain-Score's
// sizes, stratified by object_name, drawn with a stated seed) and the parts of it that
// eval.Score scores, r²_ER included, with the area's own repeats.
package areadata

import (
	"os"
	"path/filepath"
	"strings"

	"compactv4/internal/datadir"
	"compactv4/internal/pinfetch"
)

// EnvVar names the area data directory when no directory is given explicitly.
const EnvVar = "AREADATA"

// Dir is the area data directory: dir when not empty, else $AREADATA when set, else data/areas
// in the project (datadir.ProjectRoot), else data/areas in the working directory.
func Dir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	if root, err := datadir.ProjectRoot(); err == nil {
		return filepath.Join(root, "data", "areas")
	}
	return filepath.Join("data", "areas")
}

// The data sets.
const (
	MajajHong2015 = "MajajHong2015"
	Cadena2019    = "Cadena2019"
)

// Paths of the pinned files below the area data directory.
const (
	// AssemblyPath is Brain-Score's assembly dicarlo.MajajHong2015.public: a NetCDF-4 (HDF5)
	// file of one DataArray with dimensions neuroid (256 sites: 88 V4, 168 IT), presentation
	// (148,480 presentations of 3,200 images) and time_bin (1 bin, 70–170 ms), as brainio's own
	// test asserts for its shape (256, 148480, 1).
	AssemblyPath = MajajHong2015 + "/assy_dicarlo_MajajHong2015_public.nc"
	// StimulusCSVPath is the stimulus set dicarlo.hvm-public: one row per image (image_id,
	// image_file_name and the image metadata).
	StimulusCSVPath = MajajHong2015 + "/image_dicarlo_hvm-public.csv"
	// StimulusZipPath holds the stimulus set's 3,200 images, named as the CSV's image_file_name.
	StimulusZipPath = MajajHong2015 + "/image_dicarlo_hvm-public.zip"
	// CadenaPath is Cadena et al. 2019's binned V1 responses: a pickled dict of numpy arrays
	// (responses (4, 7250, 166) with NaN where a neuron was not recorded, images (7250, 140, 140),
	// image_types, image_ids, image_numbers, subject_id, session_id, unit_id, repetitions).
	CadenaPath = Cadena2019 + "/cadena_ploscb_data.pkl"
)

// brainScoreBucket is the S3 bucket of brainscore_vision's data registry
// (brainscore_vision/data/majajhong2015/__init__.py, load_assembly_from_s3 and
// load_stimulus_set_from_s3), and the object names follow its get_path: "assy_" or "image_" plus
// the identifier with dots replaced by underscores. The version ids are the registry's.
const brainScoreBucket = "https://brainio-brainscore.s3.amazonaws.com/"

// cadenaArchive is where Cadena et al.'s README (github.com/sacadena/Cadena2019PlosCB) points for
// the data: a zip of the GIN repository Cadena_PlosCB19_data (DOI 10.12751/g-node.2e31e3), in
// which the pickle is data_binned_responses/cadena_ploscb_data.pkl.
const cadenaArchive = "https://doid.gin.g-node.org/2e31e304e03d6357c98ac735a1fe5788/2e31e304e03d6357c98ac735a1fe5788.zip"

// File is one pinned file.
type File struct {
	// Path is the file's slash-separated path below the area data directory.
	Path string
	// Dataset is MajajHong2015 or Cadena2019.
	Dataset string
	// URL is where the file is downloaded from; Archive is set instead when the publisher serves
	// the file only inside an archive (then Member is its path in the archive).
	URL, Archive, Member string
	// SHA1 is the plain SHA-1 of the file in lowercase hex, or "" when the publisher records none.
	SHA1 string
	// PinnedBy says where the SHA-1 and URL are recorded.
	PinnedBy string
	// Licence is the data's licence, as its publisher states it.
	Licence string
}

// Pinned reports whether the file has a published SHA-1.
func (f File) Pinned() bool { return f.SHA1 != "" }

// Source describes where the file comes from, for messages.
func (f File) Source() string {
	var b strings.Builder
	if f.URL != "" {
		b.WriteString(f.URL)
	} else {
		b.WriteString(f.Member + " inside " + f.Archive)
	}
	if f.Pinned() {
		b.WriteString(" (SHA-1 " + f.SHA1 + ", recorded by " + f.PinnedBy + ")")
	} else {
		b.WriteString(" (no SHA-1 published; " + f.PinnedBy + ")")
	}
	return b.String()
}

const (
	brainScorePin = "brainscore_vision's data registry for MajajHong2015"
	brainScoreLic = "Brain-Score public data (brain-score.org)"
)

var files = []File{
	{
		Path: AssemblyPath, Dataset: MajajHong2015,
		URL:      brainScoreBucket + "assy_dicarlo_MajajHong2015_public.nc?versionId=LZWj2qjAwZKdmHdTGftpBPSO6oq.y9Q7",
		SHA1:     "13d28ca0ce88ee550b54db3004374ae19096e9b9",
		PinnedBy: brainScorePin + " and brainio's tests", Licence: brainScoreLic,
	},
	{
		Path: StimulusCSVPath, Dataset: MajajHong2015,
		URL:      brainScoreBucket + "image_dicarlo_hvm-public.csv?versionId=PxkMLFgPqRM7wOe3tBfwsXI3pfB49RPR",
		SHA1:     "5ca7a3da00d8e9c694a9cd725df5ba0ad6d735af",
		PinnedBy: brainScorePin, Licence: brainScoreLic,
	},
	{
		Path: StimulusZipPath, Dataset: MajajHong2015,
		URL:      brainScoreBucket + "image_dicarlo_hvm-public.zip?versionId=UzgkNOtIWMXaMN7vUA0FVemXLTvdtH13",
		SHA1:     "8aa44e038d7b551efa8077467622f9d48d72e473",
		PinnedBy: brainScorePin, Licence: brainScoreLic,
	},
	{
		Path: CadenaPath, Dataset: Cadena2019,
		Archive: cadenaArchive, Member: "data_binned_responses/cadena_ploscb_data.pkl",
		PinnedBy: "Cadena et al. publish the archive without a hash",
		Licence:  "CC BY-NC-ND 4.0 (the authors ask to be contacted before use; nothing derived from it may be redistributed)",
	},
}

// Files returns the pinned files, MajajHong2015 first.
func Files() []File { return append([]File(nil), files...) }

// Dataset returns the files of one data set, or nil for an unknown name.
func Dataset(name string) []File {
	var out []File
	for _, f := range files {
		if f.Dataset == name {
			out = append(out, f)
		}
	}
	return out
}

// Lookup returns the file at a path.
func Lookup(path string) (File, bool) {
	for _, f := range files {
		if f.Path == path {
			return f, true
		}
	}
	return File{}, false
}

// pinfetchFile describes a fetchable file to internal/pinfetch.
func (f File) pinfetchFile() pinfetch.File {
	return pinfetch.File{Path: f.Path, URL: f.URL, SHA1: f.SHA1, Hash: pinfetch.PlainSHA1, Size: -1}
}
