"""Privacy audits, above training: canaries planted in a scratch workspace (`canaries`), trained
through the product's own pipeline and attacked (`run`), the noise check with its power
(`power_check`, over `askfirst.privacy.noise_check`), `askfirst audit` (`command`) and the
optional promotion gate that requires a passing audit (`gate`).

The pure DP building blocks stay in `askfirst.privacy`, which imports nothing of the store,
training or the recommenders; this package may import all of them.
"""
