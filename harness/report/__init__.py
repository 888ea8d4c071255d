"""Reports, all rendered from drift.json: the HTML drift report (html, view, trend_svg), history and
trends, shard merging, Allure run files and rendering, the Allure diff attachment, notifications."""
