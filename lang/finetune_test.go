package lang

import (
	"testing"
)

// TestExampleFinetuneDigits runs examples/finetune_digits.bl with capped
// epochs: B-LoRA-XS improves on LoRA-XS of the same rank in ECE or NLL,
// stores fewer numbers than LoRA-SWAG, and every count is docs/algorithms.md
// §4's formula for n = 3 adapted layers of rank r = 8 and K = 20.
func TestExampleFinetuneDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("fits five networks")
	}
	fits := map[string]*FitSummary{}
	_, tables := runExampleWith(t, "finetune_digits", 60, func(r Result) {
		if r.Kind == "fit" {
			fits[r.Name] = r.Fit
		}
	})
	tab := tables["p_bxs"]
	for _, p := range []string{"p_probe", "p_lora", "p_lora_swag", "p_xs", "p_bxs"} {
		t.Logf("%-12s acc %.4f nll %.4f ece %.4f brier %.4f trainable %.0f stored %.0f", p,
			cell(t, tab, p, "accuracy"), cell(t, tab, p, "nll"), cell(t, tab, p, "ece"), cell(t, tab, p, "brier"),
			cell(t, tab, p, "trainable"), cell(t, tab, p, "stored"))
	}
	nllXS, nllB := cell(t, tab, "p_xs", "nll"), cell(t, tab, "p_bxs", "nll")
	eceXS, eceB := cell(t, tab, "p_xs", "ece"), cell(t, tab, "p_bxs", "ece")
	if !(nllB < nllXS || eceB < eceXS) {
		t.Errorf("B-LoRA-XS (nll %.4f, ece %.4f) improves on LoRA-XS (nll %.4f, ece %.4f) in neither", nllB, eceB, nllXS, eceXS)
	}
	if acc := cell(t, tab, "p_bxs", "accuracy"); acc < 0.85 {
		t.Errorf("B-LoRA-XS accuracy %.3f < 0.85", acc)
	}

	const n, r, k = 3, 8, 20
	dims := [][2]int{{64, 128}, {128, 128}, {128, 10}}
	lora := 0
	for _, d := range dims {
		lora += r * (d[0] + d[1])
	}
	want := map[string][2]int{ // trainable, stored
		"p_lora":      {lora, lora},
		"p_lora_swag": {lora, lora * (k + 2)},
		"p_xs":        {n * r * r, n * r * r},
		"p_bxs":       {n * r * r, n * r * r * (k + 2)},
	}
	for p, w := range want {
		if got := [2]float64{cell(t, tab, p, "trainable"), cell(t, tab, p, "stored")}; got != [2]float64{float64(w[0]), float64(w[1])} {
			t.Errorf("%s: trainable, stored = %v, want %v", p, got, w)
		}
		if f := fits[p]; f.Params != w[0] || f.Stored != w[1] || f.Adapters != w[0] || f.Frozen != 64*128+128+128*128+128+128*10+10 {
			t.Errorf("%s: fit summary %+v, want %d trainable (all in adapters), %d stored", p, f, w[0], w[1])
		}
	}
	if cell(t, tab, "p_bxs", "stored") >= cell(t, tab, "p_lora_swag", "stored") {
		t.Error("B-LoRA-XS stores no fewer numbers than LoRA-SWAG")
	}

	// The adapter's sampled spread is real: its epistemic part ranks the
	// old digits above the new ones, where the SWA mean alone has none.
	ood := func(row, col string) float64 { return cell(t, tables[row], row, col) }
	aBXS, aMean := ood("p_bxs (epistemic)", "auroc"), ood("p_bxs_mean (epistemic)", "auroc")
	t.Logf("epistemic OOD AUROC: B-LoRA-XS %.4f (w1 %.3g), SWA mean %.4f; total %.4f vs %.4f", aBXS,
		ood("p_bxs (epistemic)", "w1"), aMean, ood("p_bxs (total)", "auroc"), ood("p_bxs_mean (total)", "auroc"))
	if !(aBXS > 0.53) || aMean != 0.5 {
		t.Errorf("epistemic OOD AUROC: B-LoRA-XS %.4f, want > 0.53; SWA mean %.4f, want 0.5", aBXS, aMean)
	}
}
