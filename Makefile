# eofm: the two commands of the quick start, and a few more.
#   make demo   set everything up, then run eofm's main job: SkySense pretraining
#               with 2 CPU processes on freshly generated sample data
#   make test   set everything up, then run the test suite (what CI runs)
#   make test-fast  the suite without the slow tests (configs run through the
#               runner, tools in subprocesses, multi-process runs): for iterating
PY := .venv/bin/python
PYTEST_ARGS ?=
# Test processes (pytest-xdist); the cores are shared among them (tests/conftest.py).
PYTEST_WORKERS ?= 2

.PHONY: setup demo test test-fast check sample-data clean-venv

setup:
	@bash tools/setup_env.sh

demo: setup
	$(PY) tools/misc/make_sample_dataset.py data/sample --num-tiles 168 --num-val 96
	CUDA_VISIBLE_DEVICES= PYTHON=$(PY) tools/dist_train.sh \
		configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py 2 \
		--work-dir work_dirs/demo

sample-data: setup
	$(PY) tools/misc/make_sample_dataset.py data/sample

test: setup
	$(PY) -m pytest tests projects -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest tests projects -m "not slow" -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

check: setup
	$(PY) -m eofm.utils.collect_env --check

clean-venv:
	rm -rf .venv
