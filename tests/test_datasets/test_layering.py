"""The data layer does not know the models: importing it loads nothing of
``mmrrsis.models`` (the doctor, which tokenises with the model's
tokenizer, is a tool-level check in ``mmrrsis.doctor``)."""
import subprocess
import sys


def test_datasets_import_no_models():
    code = ('import sys, mmrrsis.datasets; '
            "print(sorted(m for m in sys.modules "
            "if m.startswith(('mmrrsis.models', 'mmrrsis.apis'))))")
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == '[]'
