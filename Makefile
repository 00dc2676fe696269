# sensorclip: every target installs what it needs first (into .venv, once per pyproject change).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: install test test-properties test-fast lint demo prepare images embeddings train evaluate sweep report \
	compare bench results clean search annotate finetune finetune-curve embed calibrate difficulty \
	sentences transfer-study real-homes mpnet

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: lint                    ## the linter, then the whole offline test suite (what CI runs)
	$(BIN)/python -m pytest $(ARGS)

test-properties: install      ## the property tests at random with 1,000 examples each (pin failures with @example)
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -m property $(ARGS)

test-fast: install            ## the suite without the slow (subprocess, end-to-end) tests
	$(BIN)/python -m pytest -m "not slow" $(ARGS)

lint: install                 ## ruff (configured in pyproject.toml)
	$(BIN)/python -m ruff check .

demo: install                 ## the main job on the embedded demo home (no download, no GPU)
	$(BIN)/python -m sensorclip.train $(ARGS)

prepare: install              ## data-side caches, e.g. make prepare ARGS="data=milan data.raw_path=..."
	$(BIN)/python -m sensorclip.prepare $(ARGS)

images: install               ## (sensor, state) images + contact sheet: make images ARGS="data=milan"
	$(BIN)/python -m sensorclip.prepare 'stages=[images]' $(ARGS)

sentences: install            ## one sentence per (sensor, state), embedded: make sentences ARGS="data=milan"
	$(BIN)/python -m sensorclip.prepare 'stages=[vision]' model=text $(ARGS)

embeddings: install           ## frozen vision embeddings: make embeddings ARGS="model=dinov2"
	$(BIN)/python -m sensorclip.prepare 'stages=[images,vision]' $(ARGS)

train: install                ## one training run, e.g. make train ARGS="model=dinov2"
	$(BIN)/python -m sensorclip.train $(ARGS)

evaluate: install             ## re-evaluate a checkpoint: make evaluate ARGS=ckpt_path=PATH
	$(BIN)/python -m sensorclip.evaluate $(ARGS)

COMPARE := model=learned,tiny,text,image_text,clip,dinov2,siglip features=none,coords_time \
	model.pretrained=false

sweep: install                ## image backbones vs sentences vs learned embeddings x features
	$(BIN)/python -m sensorclip.train -m $(COMPARE) $(ARGS)

report: install               ## table + chart of a multirun directory: make report ARGS=multirun/DIR
	$(BIN)/python -m sensorclip.report $(ARGS)

compare: install              ## the sweep above, then its report (newest sweep directory)
	$(BIN)/python -m sensorclip.train -m $(COMPARE) $(ARGS)
	$(BIN)/python -m sensorclip.report "$$(ls -td outputs/sweeps/*/ | head -1)"

search: install               ## make search ARGS='ckpt_path=PATH query="someone cooking at night"'
	$(BIN)/python -m sensorclip.search $(ARGS)

annotate: install             ## make annotate ARGS="ckpt_path=PATH data.raw_path=LOG data.layout=milan"
	$(BIN)/python -m sensorclip.annotate $(ARGS)

finetune: install             ## make finetune ARGS="ckpt_path=PATH finetune.labels_fraction=0.1"
	$(BIN)/python -m sensorclip.finetune $(ARGS)

finetune-curve: install       ## pretrained vs scratch at 1%, 10%, 100% of labels: ARGS=ckpt_path=PATH
	$(BIN)/python -m sensorclip.finetune -m finetune.labels_fraction=0.01,0.1,1.0 $(ARGS)

embed: install                ## make embed ARGS="ckpt_path=PATH out=embeddings.npz"
	$(BIN)/python -m sensorclip.embed $(ARGS)

results: install              ## defaults chosen by measurement -> docs/results.md (about an hour)
	$(BIN)/python scripts/results.py $(ARGS)

transfer-study: install       ## pretrain on 1..16 generated homes, evaluate on unseen ones -> docs/transfer.md
	$(BIN)/python scripts/transfer_study.py $(ARGS)

real-homes: install           ## real CASAS logs from data/real/ (never committed) -> docs/real-homes.md
	$(BIN)/python scripts/real_homes.py $(ARGS)

mpnet: install                ## the offline all-mpnet-base-v2 text encoder (text=mpnet) -> weights/
	$(BIN)/python scripts/fetch_mpnet.py $(ARGS)

bench: install                ## speed figures at Milan scale -> bench.json (docs/performance.md)
	$(BIN)/python scripts/bench.py $(ARGS)

calibrate: install            ## real vs simulated: make calibrate ARGS="milan PATH/TO/LOG data=milan_sim"
	$(BIN)/python scripts/calibrate_simulator.py $(ARGS)

difficulty: install           ## how hard the simulated homes are (docs/simulator.md)
	$(BIN)/python scripts/simulator_difficulty.py $(ARGS)

clean:                        ## caches and run outputs (keeps .venv)
	rm -rf cache outputs multirun .pytest_cache .hypothesis bench.json bench_prep.json
