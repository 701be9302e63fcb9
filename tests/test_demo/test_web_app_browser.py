"""The web app in a real browser: headless Chromium driven by Selenium
uploads a tile, types two expressions, runs, and sees two masks and the
legend. Debian's chromium and chromium-driver are needed (.ci/run installs
them); in CI a missing browser fails the test instead of skipping it."""
import os
import shutil
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

#: Flags that keep Chromium off the (closed) network and quiet.
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
                  '--disable-quic', '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--window-size=1400,1100')


def _find(*names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture
def browser(tmp_path):
    binary = _find('chromium', 'chromium-browser')
    driver_path = _find('chromedriver')
    if binary is None or driver_path is None:
        message = ('Chromium and chromedriver are needed (Debian: apt-get '
                   'install chromium chromium-driver; .ci/run does it)')
        if os.environ.get('CI'):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f'--user-data-dir={tmp_path / "profile"}')
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_upload_type_run_see_masks_and_legend(browser, web_app, tmp_path):
    url, _, _, tile = web_app
    browser.get(url)
    wait = WebDriverWait(browser, 90)
    upload = wait.until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#image-file input[type=file]')))
    upload.send_keys(tile)
    wait.until(EC.text_to_be_present_in_element(
        (By.ID, 'file-info'), ' px, 3 band(s), uint8'))
    box = browser.find_element(By.CSS_SELECTOR, '#expressions textarea')
    box.send_keys('car', Keys.ENTER, 'building along the road')
    assert box.get_attribute('value').splitlines() == [
        'car', 'building along the road']
    browser.find_element(By.ID, 'run').click()
    wait.until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, '#legend-box .legend-item')) == 2)
    wait.until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, '#mask-gallery img')) >= 2)
    wait.until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#overlay img')))
    legend = browser.find_element(By.ID, 'legend-box').text
    assert 'car' in legend and 'building along the road' in legend
    assert 'px' in legend
    status = browser.find_element(By.ID, 'status').text
    assert status.startswith('Done: 2 expression(s)')
    if web_app[1].random_weights:
        assert 'Random weights' in browser.page_source
    time.sleep(1)  # let the images paint before the screenshot
    shot = str(tmp_path / 'web_app.png')
    assert browser.save_screenshot(shot)
    target = os.environ.get('MMRRSIS_WEB_APP_SCREENSHOT')
    if target:  # how docs/web_app.png is made
        shutil.copyfile(shot, target)
    assert os.path.getsize(shot) > 10_000
