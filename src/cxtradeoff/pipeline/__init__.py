"""The report pipeline: ``reports.yaml`` in, ``reports/`` out (``cxtradeoff build``).

Modules, in the order a build uses them:

- :mod:`~cxtradeoff.pipeline.config`: read and validate ``reports.yaml`` (portfolio
  entries expanded into one report per unit and a roll-up); the hook through which the
  analysis side checks what parameters mean (:func:`config.validate`);
- :mod:`~cxtradeoff.pipeline.inputs`: hashes of each report's inputs, provenance;
- :mod:`~cxtradeoff.pipeline.plan`: pure decisions: what to build, in which order;
- :mod:`~cxtradeoff.pipeline.kernels`: papermill runs on warm Jupyter kernels;
- :mod:`~cxtradeoff.pipeline.export`: HTML export and the PDF print (Chromium over its
  DevTools pipe, :mod:`~cxtradeoff.pipeline.cdp`);
- :mod:`~cxtradeoff.pipeline.run`: what starts when, on an executor, each report staged
  aside; :mod:`~cxtradeoff.pipeline.executors`: the local executor (warm kernels in this
  process, one printer); :mod:`~cxtradeoff.pipeline.dask_executor`: reports as tasks on a
  Dask cluster (imported only when asked for);
- :mod:`~cxtradeoff.pipeline.finish`: moved into place, manifest, landing page, archive;
- :mod:`~cxtradeoff.pipeline.build`: the sequence of those steps under the build lock.

The pipeline imports nothing of the analysis (model, uncertainty, profiles, results):
the notebooks do. Importing any of these modules has no side effect.
"""
