"""The application: a Job (`job`) from the command line (`cli`, `arguments`) or a batch's
line (`batch`, `grid`), run (`runner`), recorded (`record`), painted again
(`verification`), explained (`report`); every failure's exit code (`errors`)."""
