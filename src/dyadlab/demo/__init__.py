"""``dyadlab demo``: a simulated couples' diary study, run on the platform and analysed.

- :mod:`dyadlab.demo.simulate_answers` — the simulated participants (a dyadic
  generative model of the example protocol's items, with missed prompts);
- :mod:`dyadlab.demo.server` — the platform served on 127.0.0.1 with a movable clock;
- :mod:`dyadlab.demo.study` — the study run through the platform's HTTP API;
- :mod:`dyadlab.demo.analyses` — the report;
- :mod:`dyadlab.demo.run` — :func:`~dyadlab.demo.run.run_demo`, all of it in order.
"""
