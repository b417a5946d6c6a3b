# The two commands of the README:
#   make study   set everything up, then run the study (PRESET=default|ci|paper, CORES=N)
#   make test    set everything up, then run the test suite
PRESET ?= default
CORES ?= 2
PRESET_ARG = $(if $(filter default,$(PRESET)),,--configfile config/presets/$(PRESET).yaml)

.PHONY: setup study test dry-run-paper

setup:
	./install.sh

study: setup
	.venv/bin/snakemake --cores $(CORES) $(PRESET_ARG)

test: setup
	.venv/bin/pytest

dry-run-paper: setup
	.venv/bin/snakemake -n --configfile config/presets/paper.yaml
